"""Synthetic oblique-photography deliveries in OSGB, built with OpenSceneGraph's own ``osgconv``.

The project makes the meshes (a textured height field of hills and blocky "buildings" near
Kangbashi, in CGCS2000 / 3-degree Gauss-Krüger zone 37, EPSG:4546), writes each tile as OSG's ASCII
scene (``.osgt``: PagedLOD with the tile's own geometry and its four finer files, textures as JPEG
files) and ``osgconv`` turns every one into ``.osgb`` with the JPEG embedded (``IncludeFile``), the
layout photogrammetry software delivers::

    <name>/metadata.xml                         SRS EPSG:4546 and SRSOrigin
    <name>/Data/Tile_+000_+000/Tile_+000_+000.osgb          level 0 of the block
    <name>/Data/Tile_+000_+000/Tile_+000_+000_L1_2.osgb     level 1, quadrant 2
    <name>/Data/Tile_+000_+000/Tile_+000_+000_L2_21.osgb    level 2 …

``surface(e, n)`` is the truth: vertex (E, N, H) = SRSOrigin + file coordinates, H a 1985-style
orthometric height. ``python sample_models/oblique/make_oblique_samples.py [OUT.zip] [--blocks 2x1]
[--levels 3]``; all data synthetic (示例).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from pyproj import Transformer

HERE = Path(__file__).resolve().parent
SAMPLE = HERE / "kangbashi_oblique_osgb.zip"
CRS = "EPSG:4546"
_E, _N = Transformer.from_crs("EPSG:4490", CRS, always_xy=True).transform(109.7865, 39.6042)
ORIGIN = (round(_E, -1), round(_N, -1), 1290.0)  # SRSOrigin (a Kangbashi neighbourhood, synthetic)
PIXEL_RANGE = 64.0  # PagedLOD switch: finer files once the tile's sphere spans 64 px


@dataclass(frozen=True)
class Layout:
    blocks: tuple[int, int] = (2, 1)  # blocks east, north
    levels: int = 3
    block_size: float = 120.0  # metres
    grid: int = 8  # quads per tile side, at every level
    texture_px: int = 32


def surface(e: NDArray[np.float64], n: NDArray[np.float64]) -> NDArray[np.float64]:
    """Height (m, orthometric) at map coordinates: gentle hills with box-shaped buildings."""
    x, y = e - ORIGIN[0], n - ORIGIN[1]
    ground = ORIGIN[2] + 4.0 * np.sin(x / 37.0) * np.cos(y / 53.0) + 0.02 * x
    buildings = np.zeros_like(ground)
    for cx, cy, half, height in ((30.0, 40.0, 12.0, 24.0), (150.0, 70.0, 18.0, 36.0), (90.0, 20.0, 8.0, 15.0)):
        inside = (np.abs(x - cx) < half) & (np.abs(y - cy) < half)
        buildings = np.where(inside, height, buildings)
    result: NDArray[np.float64] = ground + buildings
    return result


def _colours(e: NDArray[np.float64], n: NDArray[np.float64]) -> NDArray[np.uint8]:
    h = surface(e, n) - ORIGIN[2]
    checker = ((np.floor((e - ORIGIN[0]) / 10) + np.floor((n - ORIGIN[1]) / 10)) % 2).astype(np.float64)
    r = 110 + 40 * checker + np.clip(h * 3, 0, 90)
    g = 120 + 30 * checker + np.clip(10 - h, 0, 10) * 5
    b = 90 + 20 * checker + np.clip(h * 2, 0, 60)
    rgb: NDArray[np.uint8] = np.clip(np.stack([r, g, b], axis=-1), 0, 255).astype(np.uint8)
    return rgb


def tile_mesh(west: float, south: float, size: float, grid: int) -> tuple[NDArray[np.float64], NDArray[np.int64],
                                                                           NDArray[np.float64]]:
    """(vertices relative to SRSOrigin, triangles, texture coordinates) of one tile."""
    steps = np.linspace(0.0, 1.0, grid + 1)
    s, t = np.meshgrid(steps, steps)
    e, n = west + s.ravel() * size, south + t.ravel() * size
    vertices = np.c_[e - ORIGIN[0], n - ORIGIN[1], surface(e, n) - ORIGIN[2]]
    i = np.arange(grid)
    a = (i[None, :] + (grid + 1) * i[:, None]).ravel()
    faces = np.concatenate([np.c_[a, a + 1, a + grid + 2], np.c_[a, a + grid + 2, a + grid + 1]])
    return vertices, faces.astype(np.int64), np.c_[s.ravel(), t.ravel()]


def _texture(west: float, south: float, size: float, pixels: int) -> bytes:
    centres = (np.arange(pixels) + 0.5) / pixels * size
    e, n = np.meshgrid(west + centres, south + size - centres)  # image row 0 is the north edge
    out = io.BytesIO()
    Image.fromarray(_colours(e, n)).save(out, format="JPEG", quality=90)
    return out.getvalue()


def _vector(values: NDArray[np.float64] | NDArray[np.int64], per_line: int, fmt: str) -> str:
    flat = values.ravel()
    lines = [" ".join(fmt % v for v in flat[i : i + per_line]) for i in range(0, len(flat), per_line)]
    return f"vector {len(values)} {{\n" + "\n".join(lines) + "\n}\n"


def _geode(vertices: NDArray[np.float64], faces: NDArray[np.int64], uv: NDArray[np.float64], image: str,
           ids: list[int]) -> str:
    def uid() -> int:
        ids[0] += 1
        return ids[0]

    elements = "osg::DrawElementsUShort" if len(vertices) < 65535 else "osg::DrawElementsUInt"
    return f"""osg::Geode {{
UniqueID {uid()}
Drawables 1 {{
osg::Geometry {{
UniqueID {uid()}
DataVariance STATIC
StateSet TRUE {{
osg::StateSet {{
UniqueID {uid()}
TextureModeList 1 {{
Data 1 {{
GL_TEXTURE_2D ON
}}
}}
TextureAttributeList 1 {{
Data 1 {{
osg::Texture2D {{
UniqueID {uid()}
WRAP_S CLAMP_TO_EDGE
WRAP_T CLAMP_TO_EDGE
MIN_FILTER LINEAR_MIPMAP_LINEAR
MAG_FILTER LINEAR
Image TRUE {{
ClassName osg::Image
UniqueID {uid()}
FileName "{image}"
WriteHint 0 2
}}
}}
Value OFF
}}
}}
}}
}}
PrimitiveSetList 1 {{
{elements} {{
UniqueID {uid()}
Mode TRIANGLES
{_vector(faces.ravel(), 12, "%d")}}}
}}
VertexArray TRUE {{
osg::Vec3Array {{
UniqueID {uid()}
Binding BIND_PER_VERTEX
{_rows(vertices, "%.4f")}}}
}}
TexCoordArrayList 1 {{
osg::Vec2Array {{
UniqueID {uid()}
Binding BIND_PER_VERTEX
{_rows(uv, "%.6f")}}}
}}
}}
}}
}}
"""


def _rows(values: NDArray[np.float64], fmt: str) -> str:
    lines = [" ".join(fmt % v for v in row) for row in values]
    return f"vector {len(values)} {{\n" + "\n".join(lines) + "\n}\n"


def _scene(body: str) -> str:
    return "#Ascii Scene\n#Version 161\n#Generator OpenSceneGraph 3.6.5\n\n" + body


def tile_osgt(name: str, level: int, west: float, south: float, layout: Layout, image: str) -> str:
    size = layout.block_size / 2**level
    vertices, faces, uv = tile_mesh(west, south, size, layout.grid)
    ids = [0]
    geode = _geode(vertices, faces, uv, image, ids)
    if level + 1 >= layout.levels:
        return _scene(f"osg::Group {{\nUniqueID 1000\nChildren 1 {{\n{geode}}}\n}}\n")
    centre = vertices.mean(axis=0)
    radius = float(np.linalg.norm(vertices - centre, axis=1).max())
    files = [f"{child_name(name, level, q)}.osgb" for q in range(4)]
    ranges = f"0 {PIXEL_RANGE}\n" + "".join(f"{PIXEL_RANGE} 1e+30\n" for _ in files)
    names = '""\n' + "".join(f'"{f}"\n' for f in files)
    priorities = "0 1\n" * (len(files) + 1)
    return _scene(f"""osg::PagedLOD {{
UniqueID 1000
CenterMode USER_DEFINED_CENTER
UserCenter {centre[0]:.4f} {centre[1]:.4f} {centre[2]:.4f} {radius:.4f}
RangeMode PIXEL_SIZE_ON_SCREEN
RangeList {len(files) + 1} {{
{ranges}}}
DatabasePath FALSE
RangeDataList {len(files) + 1} {{
{names}}}
PriorityList {len(files) + 1} {{
{priorities}}}
Children 1 {{
{geode}}}
}}
""")


def child_name(stem: str, level: int, quadrant: int) -> str:
    """``Tile_+000_+000`` → ``Tile_+000_+000_L1_2`` → ``Tile_+000_+000_L2_21`` (quadrant path)."""
    if level == 0:
        return f"{stem}_L1_{quadrant}"
    block, _, path = stem.rpartition(f"_L{level}_")
    return f"{block}_L{level + 1}_{path}{quadrant}"


def _tasks(layout: Layout) -> list[tuple[str, str, int, float, float]]:
    """(block folder, file stem, level, west, south) of every file, in map coordinates."""
    tasks = []
    for bx in range(layout.blocks[0]):
        for by in range(layout.blocks[1]):
            block = f"Tile_+{bx:03d}_+{by:03d}"
            west, south = ORIGIN[0] + bx * layout.block_size, ORIGIN[1] + by * layout.block_size

            def add(stem: str, level: int, w: float, s: float, block: str = block) -> None:
                tasks.append((block, stem, level, w, s))
                if level + 1 >= layout.levels:
                    return
                half = layout.block_size / 2 ** (level + 1)
                for q in range(4):
                    add(child_name(stem, level, q), level + 1, w + (q % 2) * half, s + (q // 2) * half)

            add(block, 0, west, south)
    return tasks


def metadata_xml() -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<ModelMetadata version="1">\n'
        "\t<!-- synthetic example made by this project · 合成示例数据 -->\n"
        f"\t<SRS>{CRS}</SRS>\n\t<SRSOrigin>{ORIGIN[0]:.0f},{ORIGIN[1]:.0f},{ORIGIN[2]:.0f}</SRSOrigin>\n"
        "\t<Texture>\n\t\t<ColorSource>Visible</ColorSource>\n\t</Texture>\n</ModelMetadata>\n"
    )


def _build_one(task: tuple[str, str, int, float, float], layout: Layout, data: Path, work: Path) -> None:
    block, stem, level, west, south = task
    size = layout.block_size / 2**level
    folder = work / stem
    folder.mkdir(parents=True)
    (folder / "texture.jpg").write_bytes(_texture(west, south, size, layout.texture_px))
    (folder / "tile.osgt").write_text(tile_osgt(stem, level, west, south, layout, "texture.jpg"), encoding="ascii")
    target = data / block / f"{stem}.osgb"
    done = subprocess.run(["osgconv", "-O", "WriteImageHint=IncludeFile", "tile.osgt", str(target)], cwd=folder,
                          capture_output=True, text=True, check=False, env={**os.environ, "OSG_OPTIMIZER": "OFF"})
    if done.returncode != 0 or not target.is_file():
        raise RuntimeError(f"osgconv failed on {stem}: {done.stderr.strip()[-300:]}")
    shutil.rmtree(folder)


def build_delivery(root: Path, layout: Layout = Layout(), name: str = "kangbashi_oblique",
                   workers: int | None = None) -> Path:
    """Write ``root/<name>/metadata.xml`` and its ``Data`` folder; returns ``root/<name>``."""
    delivery = root / name
    data = delivery / "Data"
    tasks = _tasks(layout)
    for block in {t[0] for t in tasks}:
        (data / block).mkdir(parents=True, exist_ok=True)
    (delivery / "metadata.xml").write_text(metadata_xml(), encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="cim-osgb-sample-") as tmp, \
            ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
        list(pool.map(lambda task: _build_one(task, layout, data, Path(tmp)), tasks))
    return delivery


def zip_folder(folder: Path, target: Path, skip: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder.parent).as_posix()
            if path.is_file() and not any(relative.endswith(s) for s in skip):
                info = zipfile.ZipInfo(relative, date_time=(2026, 12, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
    return target


def make_zip(target: Path, layout: Layout = Layout(), skip: tuple[str, ...] = (), workers: int | None = None) -> Path:
    with tempfile.TemporaryDirectory(prefix="cim-oblique-") as tmp:
        delivery = build_delivery(Path(tmp), layout, target.stem.replace("_osgb", ""), workers)
        return zip_folder(delivery, target, skip)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=SAMPLE)
    parser.add_argument("--blocks", default="2x1")
    parser.add_argument("--levels", type=int, default=3)
    args = parser.parse_args()
    east, north = (int(v) for v in args.blocks.split("x"))
    print(make_zip(args.out, Layout(blocks=(east, north), levels=args.levels)))


if __name__ == "__main__":
    main()
