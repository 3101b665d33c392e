// GeoGuess map page: the guesses as circles weighted by probability, their S2 cells, and the
// photo's own GPS position. Python drives it through window.geoguess; clicks go back through
// the Qt WebChannel object "bridge". Every text comes in as data and is set with textContent,
// never parsed as HTML.
(function () {
  "use strict";
  var COLORS = ["#d7191c", "#f07c1b", "#1f78b4", "#33a02c", "#6a3d9a"];
  var state = { map: null, group: null, markers: [], exif: null, selected: 0, bridge: null, pin: null,
                heat: null, heatCells: [], track: null, singles: [] };
  var SOURCE_COLORS = { track: "#2e7d32", interpolated: "#2e7d32", fused: "#1f78b4", model: "#6a7fa0" };

  function el(tag, cls, content) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  function fmt(x) { return x.toFixed(5); }
  function km(x) { return x >= 10 ? Math.round(x).toLocaleString("en") + " km" : x >= 1 ? x.toFixed(1) + " km" : Math.round(x * 1000) + " m"; }

  // world-atlas keeps shapes whole across the 180th meridian (for spherical renderers); on a flat
  // map a jump from +180 to -180 would draw a line across the world. Unwrap such longitudes.
  function unwrapRing(ring) {
    for (var i = 1; i < ring.length; i++) {
      while (ring[i][0] - ring[i - 1][0] > 180) ring[i][0] -= 360;
      while (ring[i][0] - ring[i - 1][0] < -180) ring[i][0] += 360;
    }
  }

  function unwrap(geometry) {
    if (geometry.type === "Polygon") geometry.coordinates.forEach(unwrapRing);
    if (geometry.type === "MultiPolygon") geometry.coordinates.forEach(function (p) { p.forEach(unwrapRing); });
  }

  function countriesLayer(topo) {
    var countries = topojson.feature(topo, topo.objects.countries);
    countries.features.forEach(function (f) { if (f.geometry) unwrap(f.geometry); });
    return L.geoJSON(countries, {
      pane: "basemap", interactive: false,
      style: { color: "#9a9a9a", weight: 0.6, fillColor: "#f2efe9", fillOpacity: 1 }
    });
  }

  // Offline detail from zoom 5 on, where a guess's cell is judged: Natural Earth's 1:10m countries
  // instead of 1:50m, and lakes and wide rivers, of which only the 10-degree tiles in view are
  // turned into shapes (each once, then kept). Its scripts are loaded the first time it is needed.
  var DETAIL_ZOOM = 5;
  function loadDetail() {
    if (state.detailLoading) return;
    state.detailLoading = true;
    var left = state.detailScripts.length;
    state.detailScripts.forEach(function (url) {
      var script = document.createElement("script");
      script.src = url;
      script.onload = function () { if (--left === 0) detail(); };
      script.onerror = function () { state.detailLoading = false; };  // tried again at the next move
      document.head.appendChild(script);
    });
  }

  function detail() {
    var map = state.map, close = map.getZoom() >= DETAIL_ZOOM;
    var loaded = !!(window.GEOGUESS_WATER && window.GEOGUESS_COUNTRIES_10M);
    if (close && !loaded) loadDetail();
    var fine = close && loaded;
    if (fine && !state.countries10 && window.GEOGUESS_COUNTRIES_10M) state.countries10 = countriesLayer(window.GEOGUESS_COUNTRIES_10M);
    [[state.countries50, !fine], [state.countries10, fine]].forEach(function (pair) {
      if (!pair[0]) return;
      if (pair[1] && !map.hasLayer(pair[0])) map.addLayer(pair[0]);
      if (!pair[1] && map.hasLayer(pair[0])) map.removeLayer(pair[0]);
    });
    var topo = window.GEOGUESS_WATER, wanted = {};
    if (fine && topo) {
      // a shape is in the tile of its centre but reaches up to 3.3 degrees beyond it (Lake Erie
      // into Buffalo's tile): the tiles within 3.5 degrees of the view are drawn
      var b = map.getBounds(), reach = 3.5;
      var west = Math.floor((b.getWest() - reach) / 10), east = Math.floor((b.getEast() + reach) / 10);
      var south = Math.max(-9, Math.floor((b.getSouth() - reach) / 10)), north = Math.min(8, Math.floor((b.getNorth() + reach) / 10));
      for (var x = west; x <= east; x++) {
        for (var y = south; y <= north; y++) {
          var key = ((x + 18) % 36 + 36) % 36 - 18 + "_" + y;
          if (topo.objects[key]) wanted[key] = true;
        }
      }
    }
    Object.keys(state.waterTiles).forEach(function (key) {
      if (!wanted[key]) state.water.removeLayer(state.waterTiles[key]);
    });
    Object.keys(wanted).forEach(function (key) {
      if (!state.waterTiles[key]) {
        state.waterTiles[key] = L.geoJSON(topojson.feature(topo, topo.objects[key]), {
          pane: "water", interactive: false,
          style: { color: "#8db6c9", weight: 0.5, fillColor: "#aad3df", fillOpacity: 1 }
        });
      }
      if (!state.water.hasLayer(state.waterTiles[key])) state.water.addLayer(state.waterTiles[key]);
    });
  }

  // Which detail the map draws now, for tests: the countries' scale, the water tiles shown, and
  // how many water shapes cover a point.
  function basemap(lat, lon) {
    var here = L.latLng(lat, lon), shapes = 0, covering = 0;
    state.water.eachLayer(function (tile) {
      tile.eachLayer(function (shape) { shapes++; if (shape.getBounds().contains(here)) covering++; });
    });
    return { countries: state.countries10 && state.map.hasLayer(state.countries10) ? "10m" : "50m",
             water_tiles: Object.keys(state.waterTiles).filter(function (k) { return state.water.hasLayer(state.waterTiles[k]); }),
             water_shapes: shapes, water_here: covering };
  }

  function init(map, options) {
    state.map = map;
    // metric and imperial; wide enough that "1000 mi" fits inside its own line
    L.control.scale({ maxWidth: 160 }).addTo(map);
    map.createPane("basemap").style.zIndex = 150;
    map.createPane("exif").style.zIndex = 640;  // the photo's own GPS stays clickable above the pin
    map.createPane("water").style.zIndex = 160;  // over the countries, under the tiles when online
    state.countries50 = countriesLayer(window.GEOGUESS_COUNTRIES).addTo(map);
    state.water = L.layerGroup().addTo(map);
    state.waterTiles = {};
    state.detailScripts = options.detail || [];
    map.on("moveend", detail);
    map.attributionControl.setPrefix("Leaflet");
    map.attributionControl.addAttribution("Natural Earth, water &copy; OpenStreetMap contributors");
    if (options.tiles) {
      var tiles = L.tileLayer(options.tiles, { maxZoom: 19, attribution: "&copy; OpenStreetMap contributors" });
      var failed = 0;
      tiles.on("tileerror", function () {
        if (++failed === 4) { map.removeLayer(tiles); }  // offline: keep the Natural Earth basemap
      });
      tiles.addTo(map);
    }
    state.group = L.featureGroup().addTo(map);
    state.labels = L.layerGroup().addTo(map);
    map.on("zoomend", declutter);
    map.createPane("places").style.zIndex = 380;  // under the guesses, over the basemap
    state.places = L.layerGroup().addTo(map);
    state.placeLabels = [];
    state.placesAsked = 0;
    map.on("moveend", showPlaces);
    map.on("dragstart zoomstart", function () { if (!state.fitting) state.fitted = false; });
    var banner = el("div", "gg-untrained", "");  // what is wrong with the model, if anything
    banner.id = "gg-untrained";
    map.getContainer().appendChild(banner);
    if (typeof QWebChannel !== "undefined" && window.qt && qt.webChannelTransport) {
      new QWebChannel(qt.webChannelTransport, function (channel) {
        state.bridge = channel.objects.bridge;
        state.bridge.pageReady();
        showPlaces();
      });
    }
  }

  function popupFor(g) {
    var box = el("div", "gg-popup");
    box.appendChild(el("div", "gg-title", "#" + g.rank + " \u00b7 " + (g.probability * 100).toFixed(1) + "%"));
    box.appendChild(el("div", "", g.place));
    box.appendChild(el("div", "gg-muted", fmt(g.lat) + ", " + fmt(g.lon)));
    box.appendChild(el("div", "gg-muted", "S2 cell " + g.token + " (level " + g.cell_level + ", about " + km(g.cell_size_km) + ")"));
    if (g.distance_km !== null && g.distance_km !== undefined) {
      box.appendChild(el("div", "gg-muted", km(g.distance_km) + " from the photo's own GPS"));
    }
    return box;
  }

  // The position "Write GPS" would write: a pin on the selected guess that can be dragged to adjust.
  function placePin(lat, lon) {
    if (!state.pin) {
      // A needle whose head leans up and to the right of its point: the point is the position to
      // write, and the rank written in the guess's circle under it stays readable.
      var needle = L.divIcon({
        className: "gg-pin", iconSize: [30, 40], iconAnchor: [2, 38],
        html: '<svg width="30" height="40" viewBox="0 0 30 40"><line x1="2" y1="38" x2="20" y2="12" ' +
              'stroke="#0d47a1" stroke-width="3" stroke-linecap="round"/><circle cx="21" cy="10" r="8" ' +
              'fill="#1976d2" stroke="#fff" stroke-width="2"/></svg>'
      });
      state.pin = L.marker([lat, lon], { draggable: true, icon: needle, title: "Drag to adjust the position to write" });
      state.pin.on("dragend", function () {
        var p = state.pin.getLatLng();
        if (state.bridge) state.bridge.positionMoved(p.lat, p.lng, false);
      });
      var told = 0;  // while it is dragged, the window hears of it ten times a second
      state.pin.on("drag", function () {
        var now = Date.now(), p = state.pin.getLatLng();
        if (now - told < 100 || !state.bridge) return;
        told = now;
        state.bridge.positionMoved(p.lat, p.lng, true);
      });
    }
    state.pin.setLatLng([lat, lon]);
    if (!state.map.hasLayer(state.pin)) state.pin.addTo(state.map);
  }

  // Moves the pin as a drag would (keyboard users, tests) and reports it the same way.
  function movePin(lat, lon) {
    placePin(lat, lon);
    state.pin.fire("dragend");
  }

  // A searched place or typed coordinates: the map goes there (the pin follows when a photo is shown).
  function flyTo(lat, lon, zoom) {
    state.map.setView([lat, lon], zoom, { animate: false });
  }

  function clear() {
    if (state.pin && state.map.hasLayer(state.pin)) state.map.removeLayer(state.pin);
    state.group.clearLayers();
    state.labels.clearLayers();
    state.markers = [];
    state.exif = null;
    state.distance = null;
    state.selected = 0;
    state.track = null;
    state.gpsTracks = null;
    state.singles = [];
    clearHeat();
  }

  // The model's whole distribution as a heat layer: every cell given, filled by its probability
  // (relative to the most likely), under the guesses.
  function clearHeat() {
    if (state.heat) state.map.removeLayer(state.heat);
    state.heat = null;
    state.heatCells = [];
    if (state.legend) state.legend.getContainer().style.display = "none";
  }

  // The heat layer's colours, said: from the most likely cell (its probability) to the least drawn,
  // on a log scale. A Leaflet control, so the other controls and the labels keep clear of it.
  function heatColor(t) { return "hsl(" + Math.round(55 - 55 * t) + ", 100%, " + Math.round(60 - 15 * t) + "%)"; }

  function showLegend(top, low, count) {
    if (!state.legend) {
      var Legend = L.Control.extend({ options: { position: "bottomright" }, onAdd: function () {
        var box = L.DomUtil.create("div", "gg-legend leaflet-bar");
        L.DomEvent.disableClickPropagation(box);
        return box;
      } });
      state.legend = new Legend();
      state.legend.addTo(state.map);
    }
    var box = state.legend.getContainer();
    box.textContent = "";
    box.appendChild(el("div", "gg-legend-title", "Whole distribution (" + count + " cells)"));
    var ramp = el("div", "gg-legend-ramp");
    ramp.style.background = "linear-gradient(to right, " + [0, 0.25, 0.5, 0.75, 1].map(heatColor).join(", ") + ")";
    box.appendChild(ramp);
    [[pct(low), pct(top)], ["less likely", "most likely"]].forEach(function (pair) {
      var ends = el("div", "gg-legend-ends");
      ends.appendChild(el("span", "", pair[0]));
      ends.appendChild(el("span", "", pair[1]));
      box.appendChild(ends);
    });
    box.appendChild(el("div", "gg-muted", "each cell's probability, log scale"));
    box.style.display = "block";
  }

  function pct(p) { return (p >= 0.001 ? (p * 100).toFixed(1) : (p * 100).toPrecision(1)) + "%"; }

  function heat(cells) {
    clearHeat();
    if (!cells.length) return;
    var top = Math.max.apply(null, cells.map(function (c) { return c.probability; }));
    var low = Math.min.apply(null, cells.map(function (c) { return c.probability; }));
    var span = Math.log(top) - Math.log(Math.max(low, top * 1e-6)) || 1;
    state.heat = L.featureGroup();
    cells.forEach(function (c) {
      // a log scale: a peaked distribution still shows its tail
      var t = Math.max(0, 1 - (Math.log(top) - Math.log(c.probability)) / span);
      var color = heatColor(t);
      var ring = c.corners.map(function (q) { return [q[0], q[1]]; });
      for (var i = 1; i < ring.length; i++) {  // a cell across the 180th meridian stays one piece
        while (ring[i][1] - ring[i - 1][1] > 180) ring[i][1] -= 360;
        while (ring[i][1] - ring[i - 1][1] < -180) ring[i][1] += 360;
      }
      var cell = L.polygon(ring, { stroke: false, fillColor: color, fillOpacity: 0.12 + 0.5 * t, interactive: false });
      state.heat.addLayer(cell);
      // a dot of a few pixels at the cell's position: small cells still show on a world map
      state.heat.addLayer(L.circleMarker([c.lat, c.lon], {
        radius: 2 + 4 * t, stroke: false, fillColor: color, fillOpacity: 0.5 + 0.4 * t, interactive: false
      }));
    });
    state.heat.addTo(state.map);
    state.heat.bringToBack();
    state.heatCells = cells;
    showLegend(top, low, cells.length);
  }

  function show(data) {
    clear();
    warn(data.untrained, data.unverified);
    var top = data.guesses.length ? data.guesses[0].probability : 1;
    data.guesses.forEach(function (g, i) {
      var color = COLORS[i % COLORS.length];
      var weight = Math.sqrt(g.probability / top);
      var cell = L.polygon(g.corners, { color: color, weight: 1.5, opacity: 0.9, fillOpacity: 0.08, interactive: false });
      var marker = L.circleMarker([g.lat, g.lon], {
        radius: 7 + 21 * weight, color: "#fff", weight: 2, fillColor: color, fillOpacity: 0.35 + 0.5 * weight
      });
      marker.bindTooltip(String(g.rank), { permanent: true, direction: "center", className: "gg-rank" });
      marker.bindPopup(popupFor(g));
      marker.on("click", function () { select(g.rank); if (state.bridge) state.bridge.markerClicked(g.rank); });
      state.markers.push({ guess: g, marker: marker, cell: cell, color: color });
    });
    // Added from the least likely to the most likely, so that where circles overlap the better
    // guess and its rank label are drawn on top.
    state.markers.slice().reverse().forEach(function (m) {
      state.group.addLayer(m.cell);
      state.group.addLayer(m.marker);
    });
    if (data.exif) {
      var e = data.exif;
      var ring = L.circleMarker([e.lat, e.lon], { radius: 9, color: "#000", weight: 4, fillColor: "#fff", fillOpacity: 1, pane: "exif" });
      var box = el("div", "gg-popup");
      box.appendChild(el("div", "gg-title", "Photo's own GPS (EXIF)"));
      box.appendChild(el("div", "", data.name));
      box.appendChild(el("div", "gg-muted", fmt(e.lat) + ", " + fmt(e.lon)));
      if (data.guesses.length) {
        var g1 = data.guesses[0];
        box.appendChild(el("div", "gg-muted", km(g1.distance_km) + " from guess #1"));
        var line = L.polyline([[e.lat, e.lon], [g1.lat, g1.lon]], { color: "#000", weight: 1.5, dashArray: "6 6", interactive: false });
        state.group.addLayer(line);
        state.distance = { text: km(g1.distance_km), from: L.latLng(e.lat, e.lon), to: L.latLng(g1.lat, g1.lon), label: null };
      }
      ring.bindPopup(box);
      ring.bindTooltip("EXIF GPS", { direction: "top" });
      state.group.addLayer(ring);
      state.exif = { marker: ring, data: e };
    }
    state.fit = { padding: [45, 45], maxZoom: 11, bounds: state.group.getBounds() };
    fit();
    if (state.markers.length) select(1, true);
    declutter();
  }

  // Where two guesses lie close together at this zoom, only the better one's rank label shows
  // (the circles stay; zooming in separates them and brings the label back).
  function declutter() {
    placeDistance();
    var shown = [];
    state.markers.forEach(function (m) {
      var label = m.marker.getTooltip();
      if (!label || !label.options.permanent) return;
      var xy = state.map.latLngToContainerPoint(m.marker.getLatLng());
      var covered = shown.some(function (q) { return xy.distanceTo(q) < 18; });
      label.setOpacity(covered ? 0 : 0.9);
      m.labelShown = !covered;
      if (!covered) shown.push(xy);
    });
  }

  // The distance from the photo's own GPS to guess 1 labels the line between them, just above the
  // first point along it (from the middle outwards) where it covers no guess's circle; where there
  // is none, or the line is short, the nearest free spot around the GPS ring, away from guess 1
  // first.
  function placeDistance() {
    var d = state.distance;
    if (!d) return;
    state.labels.clearLayers();
    var map = state.map, a = map.latLngToContainerPoint(d.from), b = map.latLngToContainerPoint(d.to);
    var w = d.text.length * 7 + 12, h = 20;  // about the label's size in pixels
    var circles = state.markers.map(function (m) {
      return { at: map.latLngToContainerPoint(m.marker.getLatLng()), r: m.marker.getRadius() + 3 };
    });
    circles.push({ at: a, r: 12 });  // nor the GPS ring
    var origin = map.getContainer().getBoundingClientRect(), covered = covers();
    function free(c) {  // a label centred on c covers no circle, and nothing drawn over the map covers it
      var box = { left: origin.left + c.x - w / 2, right: origin.left + c.x + w / 2,
                  top: origin.top + c.y - h / 2, bottom: origin.top + c.y + h / 2 };
      return !covered.some(function (k) { return overlap(box, k); }) && circles.every(function (k) {
        var dx = Math.max(c.x - w / 2 - k.at.x, 0, k.at.x - c.x - w / 2);
        var dy = Math.max(c.y - h / 2 - k.at.y, 0, k.at.y - c.y - h / 2);
        return dx * dx + dy * dy > k.r * k.r;
      });
    }
    var candidates = [];
    if (a.distanceTo(b) >= 120) {
      [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8].forEach(function (t) {
        candidates.push(a.add(b.subtract(a).multiplyBy(t)).add(L.point(0, -6 - h / 2)));
      });
    }
    var away = a.x <= b.x ? -1 : 1;
    [20, 40, 70, 110].forEach(function (r) {
      candidates.push(a.add(L.point(away * (r + w / 2), 0)), a.add(L.point(0, -r - h / 2)),
                      a.add(L.point(0, r + h / 2)), a.add(L.point(-away * (r + w / 2), 0)));
    });
    var at = candidates.filter(free)[0] || candidates[0];  // crowded everywhere: the first choice
    d.label = L.tooltip({ permanent: true, className: "gg-distance", interactive: false, direction: "center" })
      .setLatLng(map.containerPointToLatLng(at)).setContent(d.text);
    state.labels.addLayer(d.label);  // not in the group: fitting the view to the guesses ignores it
  }

  // The model's state over the map: UNTRAINED (red) or UNVERIFIED (amber), else nothing.
  function warn(untrained, unverified) {
    var banner = document.getElementById("gg-untrained");
    banner.textContent = untrained ? "UNTRAINED MODEL: these places are random"
      : "UNVERIFIED MODEL: not the published LocationNet files";
    banner.style.background = untrained ? "#b00020" : "#a05a00";
    banner.style.display = untrained || unverified ? "block" : "none";
  }

  // Many photos at once (the batch dialog): each photo's answer, sized by probability and coloured
  // by where it came from; the photos in time order joined as a track, and each photo's own
  // single-photo guess faint beside it.
  function showMany(points, track, gpsTracks) {
    clear();
    warn(points.some(function (p) { return p.untrained; }), points.some(function (p) { return p.unverified; }));
    if (gpsTracks && gpsTracks.length) {  // the GPS tracks given (a logger's, a phone's): where the person went
      state.gpsTracks = L.polyline(gpsTracks, { color: "#e6550d", weight: 3, opacity: 0.8, dashArray: "6 4", interactive: false });
      state.group.addLayer(state.gpsTracks);
    }
    if (track && track.length) {  // sequences of positions in time order, one line each
      track = track.map(function (line) {  // across the 180th meridian the short way, not across the map
        var out = [[line[0][0], line[0][1]]];
        for (var i = 1; i < line.length; i++) {
          var lon = line[i][1];
          while (lon - out[i - 1][1] > 180) lon -= 360;
          while (lon - out[i - 1][1] < -180) lon += 360;
          out.push([line[i][0], lon]);
        }
        return out;
      });
      state.track = L.polyline(track, { color: "#333", weight: 2, opacity: 0.7, interactive: false });
      state.group.addLayer(state.track);
    }
    points.forEach(function (p) {
      if (!p.single || (p.single.lat === p.lat && p.single.lon === p.lon)) return;
      var faint = L.circleMarker([p.single.lat, p.single.lon], {
        radius: 3, color: "#888", weight: 1, fillColor: "#bbb", fillOpacity: 0.35, opacity: 0.5, interactive: false
      });
      state.group.addLayer(faint);
      state.singles.push({ marker: faint, name: p.name });
    });
    points.forEach(function (p, i) {
      var own = p.source === "gps";  // a photo's own GPS position: an anchor, not written
      var marker = L.circleMarker([p.lat, p.lon], own ? { radius: 5, color: "#000", weight: 3, fillColor: "#fff", fillOpacity: 1 } : {
        radius: 5 + 15 * Math.sqrt(p.probability), color: "#fff", weight: 1.5,
        fillColor: p.accepted ? (SOURCE_COLORS[p.source] || "#1f78b4") : "#888", fillOpacity: 0.75
      });
      var box = el("div", "gg-popup");
      box.appendChild(el("div", "gg-title", p.name));
      var measured = p.source === "track" || p.source === "interpolated";  // from GPS data: no probability
      box.appendChild(el("div", "", own || measured ? p.place : p.place + " \u00b7 " + (p.probability * 100).toFixed(1) + "%"));
      box.appendChild(el("div", "gg-muted", fmt(p.lat) + ", " + fmt(p.lon) + (p.radius_km && !own ? " \u00b7 within " + km(p.radius_km) : "")));
      if (p.source) box.appendChild(el("div", "gg-muted", p.source + (p.evidence && p.evidence.length ? ": " + p.evidence.join("; ") : "")));
      marker.bindPopup(box);
      marker.bindTooltip(p.name, { direction: "top" });
      marker.on("click", function () { if (state.bridge) state.bridge.markerClicked(i + 1); });
      state.group.addLayer(marker);
      state.markers.push({ guess: { rank: i + 1, place: p.place }, marker: marker, cell: null, color: "", own: own });
    });
    // fitted to the answers (and the photos' own GPS), never to the faint single-photo guesses of an
    // untrained model, which lie anywhere on Earth; close enough that photos a street apart are apart.
    // Drawn again (a photo ticked, a row added), the view stays where the person moved it.
    var answers = L.latLngBounds(state.markers.map(function (m) { return m.marker.getLatLng(); }));
    if (state.gpsTracks) answers.extend(state.gpsTracks.getBounds());
    state.fit = { padding: [30, 30], maxZoom: 16, bounds: answers };
    if (state.fitted !== false) fit();
    if (state.focused) highlight(state.focused);
  }

  // One photo of showMany up close (a row chosen in the batch dialog): in the middle, its name shown.
  var FOCUS_ZOOM = 15;
  function focus(number) {
    var m = state.markers[number - 1];
    if (!m) return;
    state.fitted = false;  // the person chose where to look
    state.focused = number;
    state.map.setView(m.marker.getLatLng(), Math.max(state.map.getZoom(), FOCUS_ZOOM), { animate: false });
    highlight(number);
  }

  function highlight(number) {
    state.markers.forEach(function (m, i) {
      var on = i + 1 === number;
      m.marker.setStyle({ weight: on || m.own ? 3 : 1.5, color: on ? "#1565c0" : (m.own ? "#000" : "#fff") });
      if (on) { m.marker.bringToFront(); m.marker.openTooltip(); }
    });
  }

  // The view, for tests: its zoom, centre and bounds.
  function view() {
    var c = state.map.getCenter(), b = state.map.getBounds();
    return { zoom: state.map.getZoom(), lat: c.lat, lon: c.lng,
             south: b.getSouth(), west: b.getWest(), north: b.getNorth(), east: b.getEast() };
  }

  // The view fitted to what is shown; again when the map's size changes (a smaller window), unless
  // the person has moved or zoomed the map since.
  function fit() {
    if (!state.group.getLayers().length || !state.fit || !state.fit.bounds.isValid()) return;
    state.fitting = true;
    state.map.fitBounds(state.fit.bounds, { padding: state.fit.padding, maxZoom: state.fit.maxZoom, animate: false });
    state.fitting = false;
    state.fitted = true;
  }

  function resized() {
    state.map.invalidateSize({ animate: false });
    if (state.fitted) fit();
  }

  function select(rank, quiet) {
    state.markers.forEach(function (m) {
      var on = m.guess.rank === rank;
      m.marker.setStyle({ color: on ? "#111" : "#fff", weight: on ? 3 : 2 });
      if (m.cell) m.cell.setStyle({ weight: on ? 3 : 1.5, fillOpacity: on ? 0.18 : 0.08 });
      if (on) { m.marker.bringToFront(); if (!quiet) m.marker.openPopup(); }
      if (on && m.cell) { var p = m.marker.getLatLng(); placePin(p.lat, p.lng); }
    });
    state.selected = rank;
  }

  // The view fitted to one guess's cell (double-clicking its row).
  function zoomTo(rank) {
    var m = state.markers.filter(function (x) { return x.guess.rank === rank; })[0];
    if (!m) return;
    select(rank, true);
    var bounds = m.cell ? m.cell.getBounds() : L.latLngBounds([m.marker.getLatLng()]);
    state.map.fitBounds(bounds, { padding: [60, 60], maxZoom: 15, animate: false });
  }

  // Towns and cities with their names once the view is close enough (GeoNames, asked of GeoGuess
  // for the view and thinned so that labels never pile up): offline detail where tiles are absent.
  var PLACES_ZOOM = 6;
  function showPlaces() {
    var asked = ++state.placesAsked;
    var z = state.map.getZoom();
    if (z < PLACES_ZOOM || !state.bridge) { drawPlaces([]); return; }
    var b = state.map.getBounds();
    state.bridge.placesIn(b.getSouth(), b.getWest(), b.getNorth(), b.getEast(), z, function (text) {
      if (asked === state.placesAsked) drawPlaces(JSON.parse(text || "[]"));
    });
  }

  // What the page draws over the map (the banner, the scale, the attribution, the zoom buttons, the
  // heat legend): boxes no label may go under.
  function covers() {
    var boxes = [];
    document.querySelectorAll(".gg-untrained, .leaflet-control").forEach(function (e) {
      var r = e.getBoundingClientRect();
      if (r.width && r.height) boxes.push({ left: r.left - 2, top: r.top - 2, right: r.right + 2, bottom: r.bottom + 2 });
    });
    return boxes;
  }

  // The places, largest first; one whose name would touch a name already drawn, or go under the
  // banner or a control, is left out, dot and all, so labels never overlap and are never hidden.
  function drawPlaces(places) {
    state.places.clearLayers();
    state.placeLabels = [];
    var covered = covers();
    places.forEach(function (p) {
      var dot = L.circleMarker([p[0], p[1]], { radius: 2.5, color: "#555", weight: 1, fillColor: "#555", fillOpacity: 1,
                                                 pane: "places", interactive: false });
      var label = L.marker([p[0], p[1]], { pane: "places", interactive: false, keyboard: false,
                                           icon: L.divIcon({ className: "gg-place", html: "", iconSize: null }) });
      state.places.addLayer(label);
      label.getElement().textContent = p[2];  // a name is data, never HTML
      var r = label.getElement().getBoundingClientRect();
      var box = { left: r.left - 6, top: r.top - 1, right: r.right + 1, bottom: r.bottom + 1 };  // with its dot
      if (state.placeLabels.some(function (q) { return overlap(box, q.box); }) ||
          covered.some(function (c) { return overlap(box, c); })) {
        state.places.removeLayer(label);
        return;
      }
      state.places.addLayer(dot);
      state.placeLabels.push({ name: p[2], box: box, element: label.getElement() });
    });
  }

  function overlap(a, b) { return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom; }

  function placeLabels() { return state.placeLabels.map(function (q) { return q.name; }); }

  // How many pairs of place names overlap as the page draws them now (for tests; none is the aim).
  function placesOverlapping() {
    var n = 0, boxes = state.placeLabels.map(function (q) { return q.element.getBoundingClientRect(); });
    for (var i = 0; i < boxes.length; i++) for (var j = i + 1; j < boxes.length; j++) if (overlap(boxes[i], boxes[j])) n++;
    return n;
  }

  // What the page shows, for the window's check mode and tests: each marker with its position
  // on the Earth and in the view (x, y in CSS pixels from the map's top left).
  function report() {
    function at(marker) { return state.map.latLngToContainerPoint(marker.getLatLng()); }
    var out = state.markers.map(function (m) {
      var p = m.marker.getLatLng(), xy = at(m.marker);
      return { kind: "guess", rank: m.guess.rank, lat: p.lat, lon: p.lng, radius: m.marker.getRadius(),
               fill_opacity: m.marker.options.fillOpacity, color: m.color, place: m.guess.place,
               selected: m.guess.rank === state.selected, label: m.labelShown !== false, x: xy.x, y: xy.y };
    });
    if (state.exif) {
      var q = state.exif.marker.getLatLng(), xy = at(state.exif.marker);
      var exif = { kind: "exif", lat: q.lat, lon: q.lng, radius: state.exif.marker.getRadius(), x: xy.x, y: xy.y };
      var label = state.distance && state.distance.label && state.distance.label.getElement();
      if (label) {  // the distance label's box, in the same pixels
        var box = label.getBoundingClientRect(), origin = state.map.getContainer().getBoundingClientRect();
        exif.distance_label = { text: label.textContent, left: box.left - origin.left, top: box.top - origin.top,
                                right: box.right - origin.left, bottom: box.bottom - origin.top };
      }
      out.push(exif);
    }
    if (state.pin && state.map.hasLayer(state.pin)) {
      var w = state.pin.getLatLng(), pxy = at(state.pin);
      out.push({ kind: "pin", lat: w.lat, lon: w.lng, radius: 0, x: pxy.x, y: pxy.y });
    }
    if (state.track) {
      out.push({ kind: "track", segments: state.track.getLatLngs().map(function (line) {
        return line.map(function (p) { return [p.lat, p.lng]; });
      }) });
    }
    if (state.gpsTracks) {
      out.push({ kind: "gps_track", segments: state.gpsTracks.getLatLngs().map(function (line) {
        return line.map(function (p) { return [p.lat, p.lng]; });
      }) });
    }
    state.singles.forEach(function (s) {
      var q = s.marker.getLatLng();
      out.push({ kind: "single", name: s.name, lat: q.lat, lon: q.lng, opacity: s.marker.options.fillOpacity });
    });
    if (state.heat) {
      out.push({ kind: "heat", cells: state.heatCells.length,
                 max: Math.max.apply(null, state.heatCells.map(function (c) { return c.probability; })) });
    }
    return out;
  }

  window.geoguess = { init: init, show: show, showMany: showMany, focus: focus, view: view, clear: clear, select: select, zoomTo: zoomTo, report: report,
                      movePin: movePin, flyTo: flyTo, resized: resized, heat: heat, clearHeat: clearHeat, placeLabels: placeLabels,
                      basemap: basemap, placesOverlapping: placesOverlapping };
})();
