"""Reading OpenSceneGraph's ASCII scene format (``.osgt``, as ``osgconv`` writes it) into what a tile
needs: triangle meshes with texture coordinates and decoded textures (MatrixTransforms applied), and
the PagedLOD levels (ranges, range mode, centre and radius, child file names).

Shared objects appear once with their contents and later as a bare ``UniqueID``: they are resolved.
Image pixel data (``WriteImageHint=IncludeData``) is base64 of the rows in OpenGL order (row 0 at
texture coordinate t = 0); written as a JPEG in that order, glTF ``v`` equals OSG ``t``.
"""

from __future__ import annotations

import base64
import io
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

_TOKEN = re.compile(r'"[^"]*"|[{}]|[^\s{}"]+')
GL_RGB, GL_RGBA, GL_LUMINANCE, GL_BGR, GL_BGRA = 6407, 6408, 6409, 32992, 32993
DXT = {33776: ("RGBA", 1, 8), 33777: ("RGBA", 1, 8), 33778: ("RGBA", 2, 16), 33779: ("RGBA", 3, 16)}
JPEG_QUALITY = 88


class OsgtError(ValueError):
    """The text is not a readable osgt scene."""


@dataclass(slots=True)
class Block:
    head: list[str]
    items: list[Block | list[str]] = field(default_factory=list)
    raw: str | None = None  # the body of a ``vector`` block, unsplit

    def blocks(self, name: str | None = None) -> list[Block]:
        return [i for i in self.items if isinstance(i, Block) and (name is None or (i.head and i.head[0] == name))]

    def block(self, name: str) -> Block | None:
        found = self.blocks(name)
        return found[0] if found else None

    def statement(self, name: str) -> list[str] | None:
        for item in self.items:
            if isinstance(item, list) and item and item[0] == name:
                return item
        return None

    def numbers(self) -> NDArray[np.float64]:
        text = self.raw if self.raw is not None else " ".join(
            " ".join(item) for item in self.items if isinstance(item, list))
        return np.array(text.split(), dtype=np.float64) if text else np.zeros(0)


def parse(text: str) -> Block:
    """The scene as nested blocks. Lines are split on white space; ``vector N { … }`` bodies (the bulk:
    vertices, indices, coordinates) are kept as raw text for NumPy, and quoted strings may span lines
    (base64 image data)."""
    root = Block([])
    stack = [root]
    pos, end = 0, len(text)
    while pos < end:
        newline = text.find("\n", pos)
        newline = end if newline < 0 else newline
        line = text[pos:newline]
        if '"' in line:
            scan = pos
            while (opening := text.find('"', scan, newline)) >= 0:
                closing = text.find('"', opening + 1)
                if closing < 0:
                    raise OsgtError("a quoted string never ends")
                if closing > newline:  # the string spans lines (image data): the line ends after it
                    newline = text.find("\n", closing)
                    newline = end if newline < 0 else newline
                scan = closing + 1
            line = text[pos:newline]
            tokens = _TOKEN.findall(line)
        else:
            tokens = line.replace("{", " { ").replace("}", " } ").split()
        pos = newline + 1
        if tokens and tokens[0].startswith("#") and len(stack) == 1:
            continue
        current: list[str] = []
        for piece in tokens:
            if piece == "{":
                block = Block(current)
                stack[-1].items.append(block)
                current = []
                if block.head[:1] == ["vector"]:  # raw numbers up to the closing brace
                    close = text.find("}", pos)
                    if close < 0:
                        raise OsgtError("a vector never ends")
                    block.raw = text[pos:close]
                    pos = close + 1
                    continue
                stack.append(block)
            elif piece == "}":
                if current:
                    stack[-1].items.append(current)
                    current = []
                if len(stack) == 1:
                    raise OsgtError("unbalanced braces")
                stack.pop()
            else:
                current.append(piece)
        if current:
            stack[-1].items.append(current)
    if len(stack) != 1:
        raise OsgtError("the scene ends inside a block")
    return root


@dataclass(slots=True)
class Mesh:
    positions: NDArray[np.float64]  # (n, 3) in the file's coordinates (transforms applied)
    faces: NDArray[np.int64]
    uv: NDArray[np.float32] | None
    texture: bytes | None  # JPEG


@dataclass(slots=True)
class PagedLevel:
    range_mode: str  # PIXEL_SIZE_ON_SCREEN or DISTANCE_FROM_EYE_POINT
    ranges: list[tuple[float, float]]
    files: list[str]  # "" for inline children
    centre: NDArray[np.float64] | None
    radius: float


@dataclass(slots=True)
class Scene:
    meshes: list[Mesh] = field(default_factory=list)
    paged: list[PagedLevel] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class SceneReader:
    def __init__(self, root: Block) -> None:
        self.shared: dict[str, Block] = {}
        self._index(root)
        self.scene = Scene()
        self.textures: dict[int, bytes | None] = {}

    def _index(self, block: Block) -> None:
        unique = block.statement("UniqueID")
        if unique is not None and len(unique) > 1 and not _is_reference(block):
            self.shared.setdefault(unique[1], block)
        for child in block.blocks():
            self._index(child)

    def resolve(self, block: Block) -> Block:
        """A bare reference (``UniqueID n`` and nothing else) → the block it refers to."""
        if _is_reference(block):
            unique = block.statement("UniqueID")
            if unique is not None and len(unique) > 1 and unique[1] in self.shared:
                return self.shared[unique[1]]
        return block

    def walk(self, block: Block, matrix: NDArray[np.float64]) -> None:
        for child in block.blocks():
            kind = child.head[0] if child.head else ""
            target = self.resolve(child)
            if kind == "osg::Geometry":
                self.geometry(target, matrix)
            elif kind == "osg::MatrixTransform":
                local = target.block("Matrix")
                m = local.numbers().reshape(4, 4) if local is not None else np.eye(4)
                self.walk(target, m @ matrix)
            elif kind == "osg::PagedLOD":
                self.paged(target, matrix)
                self.walk(target, matrix)
            elif kind in ("StateSet", "osg::StateSet", "InitialBound", "UserDataContainer"):
                continue
            else:
                self.walk(target, matrix)

    def paged(self, block: Block, matrix: NDArray[np.float64]) -> None:
        mode_statement = block.statement("RangeMode")
        ranges_block = block.block("RangeList")
        files_block = block.block("RangeDataList")
        ranges_values = ranges_block.numbers().reshape(-1, 2) if ranges_block is not None else np.zeros((0, 2))
        files = [str(item[0]).strip('"') for item in files_block.items if isinstance(item, list)] if files_block else []
        centre_statement = block.statement("UserCenter")
        centre, radius = None, -1.0
        if centre_statement is not None and len(centre_statement) >= 5:
            values = np.array(centre_statement[1:5], dtype=np.float64)
            centre = (np.r_[values[:3], 1.0] @ matrix)[:3]
            radius = float(values[3]) * float(np.linalg.norm(matrix[0, :3]))
        self.scene.paged.append(PagedLevel(
            mode_statement[1] if mode_statement and len(mode_statement) > 1 else "DISTANCE_FROM_EYE_POINT",
            [(float(a), float(b)) for a, b in ranges_values], files, centre, radius))

    def _array(self, block: Block | None) -> NDArray[np.float64] | None:
        if block is None:
            return None
        arrays = [self.resolve(b) for b in block.blocks() if b.head and b.head[0].startswith("osg::")]
        if not arrays:
            return None
        vector = arrays[0].block("vector")
        return vector.numbers() if vector is not None else None

    def geometry(self, block: Block, matrix: NDArray[np.float64]) -> None:
        vertices = self._array(block.block("VertexArray"))
        if vertices is None or vertices.size < 9:
            return
        positions = vertices.reshape(-1, 3)
        positions = (np.c_[positions, np.ones(len(positions))] @ matrix)[:, :3]
        faces = self.faces(block.block("PrimitiveSetList"), len(positions))
        if not len(faces):
            return
        coords = self._array(block.block("TexCoordArrayList"))
        matches = coords is not None and coords.size == 2 * len(positions)
        uv = coords.reshape(-1, 2).astype(np.float32) if coords is not None and matches else None
        texture = self.texture(block) if uv is not None else None
        self.scene.meshes.append(Mesh(positions, faces, uv if texture is not None else None, texture))

    def faces(self, block: Block | None, count: int) -> NDArray[np.int64]:
        if block is None:
            return np.zeros((0, 3), dtype=np.int64)
        out: list[NDArray[np.int64]] = []
        for primitive in block.blocks():
            primitive = self.resolve(primitive)
            mode_statement = primitive.statement("Mode")
            mode = mode_statement[1] if mode_statement and len(mode_statement) > 1 else "TRIANGLES"
            vector = primitive.block("vector")
            if vector is not None:
                indices = vector.numbers().astype(np.int64)
            else:
                first, number = primitive.statement("First"), primitive.statement("Count")
                if first is None or number is None:
                    continue
                indices = np.arange(int(first[1]), int(first[1]) + int(number[1]), dtype=np.int64)
            triangles = _triangles(mode, indices)
            if triangles is None:
                self.scene.skipped.append(f"primitive mode {mode}")
                continue
            out.append(triangles[(triangles < count).all(axis=1)])
        return np.concatenate(out) if out else np.zeros((0, 3), dtype=np.int64)

    def texture(self, geometry: Block) -> bytes | None:
        images = _find(geometry, "Image")
        if not images:
            return None
        image_block = self.resolve(images[0])
        key = id(image_block)
        if key not in self.textures:
            self.textures[key] = _jpeg(image_block)
        return self.textures[key]


def _is_reference(block: Block) -> bool:
    return all(isinstance(item, list) and item and item[0] in ("UniqueID", "ClassName") for item in block.items)


def _find(block: Block, name: str) -> list[Block]:
    found: list[Block] = []
    for child in block.blocks():
        if child.head and child.head[0] == name:
            found.append(child)
        else:
            found.extend(_find(child, name))
    return found


def _triangles(mode: str, indices: NDArray[np.int64]) -> NDArray[np.int64] | None:
    if mode == "TRIANGLES":
        whole: NDArray[np.int64] = indices[: len(indices) // 3 * 3].reshape(-1, 3)
        return whole
    if mode == "TRIANGLE_STRIP":
        n = len(indices) - 2
        if n <= 0:
            return np.zeros((0, 3), dtype=np.int64)
        a, b, c = indices[:-2], indices[1:-1], indices[2:]
        odd = np.arange(n) % 2 == 1
        tris = np.stack([a, b, c], axis=1)
        tris[odd] = np.stack([b[odd], a[odd], c[odd]], axis=1)
        proper = (tris[:, 0] != tris[:, 1]) & (tris[:, 1] != tris[:, 2]) & (tris[:, 0] != tris[:, 2])
        kept: NDArray[np.int64] = tris[proper]
        return kept
    if mode == "TRIANGLE_FAN":
        if len(indices) < 3:
            return np.zeros((0, 3), dtype=np.int64)
        return np.stack([np.full(len(indices) - 2, indices[0]), indices[1:-1], indices[2:]], axis=1)
    if mode in ("POINTS", "LINES", "LINE_STRIP", "LINE_LOOP"):
        return None
    return None


def _jpeg(image: Block) -> bytes | None:
    """The image's first level as a JPEG (None when it carries no pixel data)."""
    from PIL import Image

    size, pixel = image.statement("Size"), image.statement("PixelFormat")
    data_block = image.block("Data")
    if size is None or pixel is None or data_block is None:
        return None
    strings = [t for item in data_block.items if isinstance(item, list) for t in item if t.startswith('"')]
    if not strings:
        return None
    raw = base64.b64decode("".join(strings[0].strip('"').split()))
    width, height = int(size[1]), int(size[2])
    fmt = int(pixel[1])
    picture: Any
    if fmt in DXT:
        mode, n, block_bytes = DXT[fmt]
        needed = math.ceil(width / 4) * math.ceil(height / 4) * block_bytes
        picture = Image.frombytes(mode, (width, height), raw[:needed], "bcn", n)
    else:
        channels = {GL_RGB: "RGB", GL_RGBA: "RGBA", GL_LUMINANCE: "L", GL_BGR: "RGB", GL_BGRA: "RGBA"}.get(fmt)
        if channels is None:
            return None
        picture = Image.frombytes(channels, (width, height), raw[: width * height * len(channels)])
        if fmt in (GL_BGR, GL_BGRA):
            picture = Image.merge(channels, picture.split()[2::-1] + picture.split()[3:])
    out = io.BytesIO()
    picture.convert("RGB").save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def read_scene(text: str) -> Scene:
    root = parse(text)
    reader = SceneReader(root)
    reader.walk(root, np.eye(4))
    return reader.scene
