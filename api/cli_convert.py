"""``cim convert INPUT -o OUTDIR``: offline conversion, no database, no server."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from converters import ConvertOptions, convert


def _triple(value: str | None, what: str) -> tuple[float, float, float] | None:
    if value is None:
        return None
    parts = [p for p in value.replace(" ", "").split(",") if p]
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise typer.BadParameter(f"{what} must be three numbers separated by commas, got {value!r}") from None
    if len(numbers) == 2:
        numbers.append(0.0)
    if len(numbers) != 3:
        raise typer.BadParameter(f"{what} must be E,N[,H], got {value!r}")
    return numbers[0], numbers[1], numbers[2]


def convert_command(
    input_path: Annotated[Path, typer.Argument(help="IFC/IFCZIP, LAS/LAZ, OBJ/PLY/glTF, GeoJSON/GPKG/CityJSON")],
    out_dir: Annotated[Path, typer.Option("-o", "--out", help="Output folder for tileset.json and contents")],
    kind: Annotated[str | None, typer.Option(help="Force a converter: ifc, pointcloud, mesh, footprints")] = None,
    crs: Annotated[str | None, typer.Option(help="CRS of the input, e.g. EPSG:4546 or EPSG:4546+5737")] = None,
    origin: Annotated[str | None, typer.Option(help="E,N,H of the model origin in --crs units")] = None,
    rotation: Annotated[float, typer.Option(help="Degrees from local x to grid east, counter-clockwise")] = 0.0,
    scale: Annotated[float, typer.Option(help="Scale from model units to CRS units")] = 1.0,
    up: Annotated[str, typer.Option(help="Up axis of meshes: z or y")] = "z",
    allow_ungeoreferenced: Annotated[
        bool, typer.Option(help="IFC: place an ungeoreferenced model at the default location")
    ] = False,
    local: Annotated[
        bool, typer.Option(help="Survey data: coordinates are local metres at the default location")
    ] = False,
    include_spaces: Annotated[bool, typer.Option(help="IFC: keep IfcSpace volumes")] = False,
    jobs: Annotated[int | None, typer.Option(help="Worker processes/threads (default: all cores)")] = None,
    memory_mb: Annotated[int, typer.Option(help="Memory budget for out-of-core processing")] = 1024,
    compress: Annotated[bool, typer.Option(help="Quantize/compress vertex data")] = True,
    height_field: Annotated[str | None, typer.Option(help="Footprints: attribute holding the height in metres")] = None,
    floors_field: Annotated[str | None, typer.Option(help="Footprints: attribute holding the number of floors")] = None,
    storey_height: Annotated[float, typer.Option(help="Footprints: metres per floor with --floors-field")] = 3.0,
    base_field: Annotated[str | None, typer.Option(help="Footprints: attribute holding the base elevation")] = None,
    geoid: Annotated[
        Path | None,
        typer.Option(help="Geoid grid (GTX or GeoTIFF) for Yellow Sea 1985 heights (EPSG:5737) instead of EGM96"),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar")] = False,
) -> None:
    """Convert one file into a georeferenced 3D Tiles 1.1 tileset (works offline)."""
    if up not in ("z", "y"):
        raise typer.BadParameter("--up must be z or y")
    options = ConvertOptions(
        crs=crs,
        origin=_triple(origin, "--origin"),
        rotation_deg=rotation,
        scale=scale,
        up=up,  # type: ignore[arg-type]
        allow_ungeoreferenced=allow_ungeoreferenced,
        local=local,
        include_spaces=include_spaces,
        jobs=jobs,
        memory_mb=memory_mb,
        compress=compress,
        height_field=height_field,
        floors_field=floors_field,
        storey_height=storey_height,
        base_field=base_field,
        geoid_grid=str(geoid) if geoid is not None else None,
        kind=kind,
    )
    if quiet:
        report = convert(input_path, out_dir, options)
    else:
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, transient=True) as progress:
            task = progress.add_task(input_path.name, total=1.0)
            options.progress = lambda fraction, message: progress.update(
                task, completed=fraction, description=f"{input_path.name}: {message}"
            )
            report = convert(input_path, out_dir, options)
    georef = report.get("georeferencing", {})
    source = georef.get("source") or georef.get("mode") or "unknown"
    typer.echo(
        f"{input_path.name}: {report.get('kind')} → {out_dir / 'tileset.json'} "
        f"({source} georeferencing, {report.get('timings', {}).get('total_s', '?')} s)"
    )
