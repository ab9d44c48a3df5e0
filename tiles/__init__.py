"""3D Tiles 1.1 writing: glb contents with feature metadata, tileset.json, the tile hierarchy."""
