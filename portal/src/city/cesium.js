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
