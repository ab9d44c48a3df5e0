// The platform's CesiumJS viewer: the whole city from one tileset, offline (no Cesium ion).
"use strict";
(async function () {
  const params = new URLSearchParams(window.location.search);
  const token = params.get("access_token");
  const datasetId = params.get("dataset");
  const status = document.getElementById("status");
  const panel = document.getElementById("properties");
  const state = { tilesRequested: 0, tilesLoaded: 0, picked: null, ready: false, error: null };
  window.cimViewerState = state;

  Cesium.Ion.defaultAccessToken = "";
  const imagery = await Cesium.TileMapServiceImageryProvider.fromUrl(
    Cesium.buildModuleUrl("Assets/Textures/NaturalEarthII"));
  const viewer = new Cesium.Viewer("map", {
    baseLayer: new Cesium.ImageryLayer(imagery),
    baseLayerPicker: false, geocoder: false, timeline: false, animation: false, homeButton: true,
    sceneModePicker: false, navigationHelpButton: false, fullscreenButton: false, infoBox: false,
    selectionIndicator: false, requestRenderMode: false,
    contextOptions: { webgl: { preserveDrawingBuffer: true } },
  });
  viewer.scene.globe.depthTestAgainstTerrain = false;
  window.cimViewer = viewer;

  const resource = (url) => new Cesium.Resource({ url, queryParameters: token ? { access_token: token } : {} });

  try {
    const city = await Cesium.Cesium3DTileset.fromUrl(resource("/tiles/city/tileset.json"), {
      maximumScreenSpaceError: 8,
    });
    city.tileLoad.addEventListener(() => { state.tilesLoaded += 1; });
    city.tileVisible.addEventListener(() => { state.ready = true; });
    viewer.scene.primitives.add(city);
    let target = null;
    if (datasetId) {
      const answer = await fetch(`/api/v1/datasets/${datasetId}` + (token ? `?access_token=${token}` : ""));
      if (answer.ok) {
        const dataset = await answer.json();
        const revision = dataset.published_revision;
        const origin = revision && revision.georeferencing.origin;
        status.textContent = dataset.name;
        if (origin) {
          target = { ...origin, ground: revision.height_range[0], footprint: dataset.footprint,
                     range: footprintSize(dataset.footprint) * 1.6 };
        }
      } else {
        status.textContent = `dataset ${datasetId} is not available (${answer.status})`;
      }
    }
    // No terrain offline: heights are true ellipsoidal heights (about 1 250 m in Ordos), so without a
    // correction everything floats above the bare ellipsoid. Unless ?ground=ellipsoid, the city is
    // lowered by the ground height at the place looked at (the dataset's lowest point, or the city's).
    const cityGround = city.root.boundingVolume.minimumHeight ?? 0;
    const ground = params.get("ground") === "ellipsoid" ? 0 : (target ? target.ground : cityGround) || 0;
    const pivot = target ? Cesium.Cartographic.fromDegrees(target.lon, target.lat)
                         : Cesium.Cartographic.fromCartesian(city.boundingSphere.center);
    const up = Cesium.Cartesian3.subtract(
      Cesium.Cartesian3.fromRadians(pivot.longitude, pivot.latitude, -ground),
      Cesium.Cartesian3.fromRadians(pivot.longitude, pivot.latitude, 0), new Cesium.Cartesian3());
    city.modelMatrix = Cesium.Matrix4.fromTranslation(up);
    state.groundOffset = ground;
    if (target && target.range > 3000) {
      const [west, south, east, north] = footprintBounds(target.footprint);
      viewer.camera.setView({ destination: Cesium.Rectangle.fromDegrees(west, south, east, north) });
    } else if (target) {
      const range = Math.min(5000, Math.max(60, target.range || 150));
      const centre = Cesium.Cartesian3.fromDegrees(target.lon, target.lat, target.height - ground);
      viewer.camera.flyToBoundingSphere(new Cesium.BoundingSphere(centre, range / 2),
        { duration: 0, offset: new Cesium.HeadingPitchRange(0, Cesium.Math.toRadians(-35), range) });
    } else if (city.root.children.length) {
      await viewer.zoomTo(city);
      status.textContent = "the whole city";
    } else {
      status.textContent = "no published datasets yet";
    }
  } catch (error) {
    state.error = String(error);
    status.textContent = `could not load the city tileset: ${error}`;
  }

  // [west, south, east, north] of a GeoJSON (multi)polygon
  function footprintBounds(geometry) {
    const rings = geometry.type === "MultiPolygon" ? geometry.coordinates.flat() : geometry.coordinates;
    const points = rings.flat();
    const lons = points.map((p) => p[0]), lats = points.map((p) => p[1]);
    return [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)];
  }

  // the diagonal in metres of a footprint's bounding box
  function footprintSize(geometry) {
    if (!geometry) return 150;
    const [west, south, east, north] = footprintBounds(geometry);
    return Cesium.Cartesian3.distance(Cesium.Cartesian3.fromDegrees(west, south), Cesium.Cartesian3.fromDegrees(east, north));
  }

  viewer.screenSpaceEventHandler.setInputAction((click) => {
    const feature = viewer.scene.pick(click.position);
    if (!(feature instanceof Cesium.Cesium3DTileFeature)) {
      panel.hidden = true;
      state.picked = null;
      return;
    }
    const rows = feature.getPropertyIds().map((name) => {
      const value = feature.getProperty(name);
      return [name, Array.isArray(value) ? value.join(", ") : String(value)];
    });
    state.picked = Object.fromEntries(rows);
    const table = document.createElement("table");
    for (const [name, value] of rows) {
      const tr = table.insertRow();
      tr.insertCell().textContent = name;
      tr.insertCell().textContent = value;
    }
    panel.replaceChildren(table);
    panel.hidden = false;
  }, Cesium.ScreenSpaceEventType.LEFT_CLICK);
})();
