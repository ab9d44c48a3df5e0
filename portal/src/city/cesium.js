// CesiumJS is served by the platform at /viewer/cesium (node_modules/cesium/Build/Cesium): loaded on demand.
let loading = null;

export function loadCesium() {
  if (window.Cesium) return Promise.resolve(window.Cesium);
  loading ||= new Promise((resolve, reject) => {
    const style = document.createElement("link");
    style.rel = "stylesheet";
    style.href = "/viewer/cesium/Widgets/widgets.css";
    document.head.appendChild(style);
    const script = document.createElement("script");
    script.src = "/viewer/cesium/Cesium.js";
    script.onload = () => resolve(window.Cesium);
    script.onerror = () => { loading = null; reject(new Error("cesium")); };
    document.head.appendChild(script);
  });
  return loading;
}

/** metres between two Cartesian3 points, and heights, areas of clicked points */
export function measure(Cesium, mode, points) {
  if (mode === "distance") {
    let total = 0;
    for (let i = 1; i < points.length; i += 1) total += Cesium.Cartesian3.distance(points[i - 1], points[i]);
    return points.length > 1 ? total : null;
  }
  if (mode === "height") {
    if (points.length < 2) return null;
    const a = Cesium.Cartographic.fromCartesian(points[0]);
    const b = Cesium.Cartographic.fromCartesian(points[points.length - 1]);
    return Math.abs(b.height - a.height);
  }
  if (points.length < 3) return null;
  // area on the local tangent plane at the first point
  const toLocal = Cesium.Matrix4.inverse(Cesium.Transforms.eastNorthUpToFixedFrame(points[0]), new Cesium.Matrix4());
  const local = points.map((p) => Cesium.Matrix4.multiplyByPoint(toLocal, p, new Cesium.Cartesian3()));
  let twice = 0;
  for (let i = 0; i < local.length; i += 1) {
    const a = local[i];
    const b = local[(i + 1) % local.length];
    twice += a.x * b.y - b.x * a.y;
  }
  return Math.abs(twice) / 2;
}

/** The platform's ground in the viewer: the city's combined quantized-mesh terrain (when any terrain dataset is
 * published and visible) and each published orthophoto as an imagery layer over the base imagery (geographic
 * tiles, the globe's own scheme). `probe` (window.cimCityState) counts what loaded, for tests. */
export async function addGround(Cesium, viewer, layers, probe) {
  const ground = { terrain: false, imagery: [] };
  const path = (url) => new URL(url, window.location.href).pathname.replace(/%7B/g, "{").replace(/%7D/g, "}");
  probe.terrain = { datasets: layers.terrain.datasets.length, ready: false, tiles: 0, maxLevel: -1 };
  probe.imagery = { layers: layers.imagery.length, tiles: 0 };
  if (layers.terrain.datasets.length) {
    const base = path(layers.terrain.layer_url).replace(/layer\.json$/, ""); // Cesium adds layer.json itself
    const provider = await Cesium.CesiumTerrainProvider.fromUrl(base, { requestVertexNormals: true });
    const requestTile = provider.requestTileGeometry.bind(provider);
    provider.requestTileGeometry = (x, y, level, request) => {
      const pending = requestTile(x, y, level, request);
      pending?.then?.(() => { probe.terrain.tiles += 1; probe.terrain.maxLevel = Math.max(probe.terrain.maxLevel, level); });
      return pending;
    };
    viewer.terrainProvider = provider;
    viewer.scene.globe.enableLighting = false;
    ground.terrain = true;
    probe.terrain.ready = true;
  }
  for (const layer of layers.imagery) {
    const [west, south, east, north] = layer.bounds;
    const provider = new Cesium.UrlTemplateImageryProvider({
      url: path(layer.geographic_url),
      tilingScheme: new Cesium.GeographicTilingScheme(),
      rectangle: Cesium.Rectangle.fromDegrees(west, south, east, north),
      maximumLevel: 21,
      credit: layer.name,
    });
    provider.errorEvent.addEventListener((error) => { error.retry = false; });
    const requestImage = provider.requestImage.bind(provider);
    provider.requestImage = (x, y, level, request) => {
      const pending = requestImage(x, y, level, request);
      pending?.then?.((image) => { if (image) probe.imagery.tiles += 1; });
      return pending;
    };
    const imageryLayer = viewer.imageryLayers.addImageryProvider(provider);
    imageryLayer.cimDataset = layer.id;
    ground.imagery.push({ id: layer.id, name: layer.name, layer: imageryLayer, show: true });
  }
  return ground;
}
