/* lastmile's maps: one script for every page that shows routes (the board, the customer's
 * page, the demo's offline map.html). Plain JavaScript on Leaflet, no build step.
 *
 * Load it after /assets/leaflet/leaflet.js (and leaflet.css, map.css). On DOMContentLoaded it
 * draws every element with the attribute data-map, reading:
 *   data-routes-url   a GeoJSON FeatureCollection shaped like GET /plans/{id}/routes.geojson
 *                     (features of kind depot, route, stop, unserved; "visit" is a stop too),
 *                     fetched same-origin with credentials;
 *   data-streets-url  optional: the base layer (GET /streets.geojson), drawn on a canvas;
 *   data-tile-url     optional: a tile URL template ({z}/{x}/{y}) drawn under the streets;
 * or the same data inline, in child <script type="application/json" data-map-routes> and
 * <script type="application/json" data-map-streets> elements (the demo's offline file).
 *
 * Routes are one colour each (their "colour" property, else PALETTE in route order), stops
 * circle markers with a popup (sequence, ETA as given, order id), unserved orders red with
 * their reason, the depot a dark square; the view fits them. Route lines carry the CSS class
 * lm-route, stops lm-stop, unserved lm-unserved (SVG, so tests can count them). A legend
 * names the routes. With neither streets nor tiles the routes lie on a plain background with
 * a note saying how to get a street map.
 *
 * window.lastmileMap = { draw(element), reload(element) }: reload fetches data-routes-url
 * again and redraws the routes, keeping the view (live pages). When drawn, the element gets
 * data-map-ready; when loading fails, data-map-error with the reason (also shown on the map).
 */
(function () {
  "use strict";

  /* The same colours, in the same order, as routing.geojson.PALETTE; red is for unserved. */
  var PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
    "#7f7f7f", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d",
    "#31a354", "#756bb1"
  ];
  var UNSERVED = "#d62728";
  var STREET = "#8a96a3";
  var WIDE_PX = 600; /* narrower maps fold their legend */
  var NO_STREETS = "no street map configured — set LASTMILE_ROAD_GRAPH or LASTMILE_TILE_URL";

  function inline(element, attribute) {
    var script = element.querySelector('script[type="application/json"][' + attribute + "]");
    return script ? JSON.parse(script.textContent) : null;
  }

  function fetchJson(url) {
    return fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/geo+json, application/json" }
    }).then(function (response) {
      if (!response.ok) {
        throw new Error(url + " answered " + response.status);
      }
      return response.json();
    });
  }

  /* The data of a layer: inline when the element carries it, else fetched, else null. */
  function source(element, attribute, urlAttribute) {
    var data = inline(element, attribute);
    if (data) {
      return Promise.resolve(data);
    }
    var url = element.getAttribute(urlAttribute);
    return url ? fetchJson(url) : Promise.resolve(null);
  }

  function text(value) {
    return String(value === null || value === undefined ? "" : value)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  function latlng(position) {
    return [position[1], position[0]];
  }

  function routeKey(properties) {
    return properties.route_id !== undefined && properties.route_id !== null
      ? "id:" + properties.route_id : "vehicle:" + properties.vehicle;
  }

  function routeName(properties) {
    return properties.vehicle || properties.name || ("route " + (properties.route_id || ""));
  }

  function popupLines(lines) {
    return lines.filter(function (line) { return line; }).join("<br>");
  }

  function note(state, message) {
    if (!state.note) {
      state.note = L.control({ position: "bottomleft" });
      state.note.onAdd = function () {
        var box = L.DomUtil.create("div", "lm-note");
        box.setAttribute("data-testid", "map-note");
        return box;
      };
      state.note.addTo(state.map);
    }
    state.note.getContainer().textContent = message;
  }

  function legend(state, routes, unserved, summary) {
    if (state.legend) {
      state.legend.remove();
    }
    state.legend = L.control({ position: "topright" });
    state.legend.onAdd = function () {
      /* A <details>: open on a wide map, folded to its heading on a phone-sized one. */
      var box = L.DomUtil.create("details", "lm-legend");
      box.setAttribute("data-testid", "map-legend");
      box.open = state.map.getContainer().clientWidth >= WIDE_PX;
      var head = summary && summary.routes !== undefined
        ? text(summary.served) + "/" + text(summary.stops) + " stops on " +
          text(summary.routes) + " routes"
        : routes.length + (routes.length === 1 ? " route" : " routes") +
          (unserved ? ", " + unserved + " unserved" : "");
      var rows = ['<summary class="lm-legend-head">' + head + "</summary>"];
      routes.forEach(function (route) {
        rows.push('<div class="lm-legend-row"><span class="lm-swatch" style="background:' +
          text(route.colour) + '"></span>' + text(route.name) + " · " + text(route.stops) +
          " stops</div>");
      });
      if (unserved) {
        rows.push('<div class="lm-legend-row"><span class="lm-swatch lm-dot" style="background:' +
          UNSERVED + '"></span>unserved · ' + unserved + "</div>");
      }
      box.innerHTML = rows.join("");
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    state.legend.addTo(state.map);
  }

  function drawRoutes(state, collection) {
    var svg = state.svg;
    var group = L.featureGroup();
    var features = (collection && collection.features) || [];
    var colours = {};
    var routes = [];
    var unserved = 0;
    features.forEach(function (feature) {
      var p = feature.properties || {};
      if (p.kind !== "route") {
        return;
      }
      var colour = p.colour || PALETTE[routes.length % PALETTE.length];
      colours[routeKey(p)] = colour;
      colours["vehicle:" + p.vehicle] = colour;
      routes.push({ name: routeName(p), colour: colour, stops: p.stops });
      var line = L.polyline(feature.geometry.coordinates.map(latlng), {
        renderer: svg, color: colour, weight: 4, opacity: 0.85, className: "lm-route"
      });
      line.bindPopup(popupLines([
        "<b>" + text(routeName(p)) + "</b>" + (p.type ? " (" + text(p.type) + ")" : ""),
        text(p.stops) + " stops" + (p.km !== undefined ? ", " + text(p.km) + " km" : "") +
          (p.distance_m !== undefined ? ", " + text((p.distance_m / 1000).toFixed(1)) + " km" : ""),
        p.start ? text(p.start) + " – " + text(p.end) : ""
      ]));
      line.addTo(group);
    });
    features.forEach(function (feature) {
      var p = feature.properties || {};
      var at = feature.geometry && feature.geometry.type === "Point"
        ? latlng(feature.geometry.coordinates) : null;
      if (!at) {
        return;
      }
      if (p.kind === "stop" || p.kind === "visit") {
        var colour = p.colour || colours[routeKey(p)] || colours["vehicle:" + p.vehicle] ||
          PALETTE[0];
        L.circleMarker(at, {
          renderer: svg, radius: 6, color: "#ffffff", weight: 1.5, fillColor: colour,
          fillOpacity: 1, className: "lm-stop"
        }).bindPopup(popupLines([
          "<b>#" + text(p.sequence) + "</b> " + text(p.vehicle || ""),
          "ETA " + text(p.eta),
          "order " + text(p.order_id),
          p.address ? text(p.address) : ""
        ])).addTo(group);
      } else if (p.kind === "unserved") {
        unserved += 1;
        L.circleMarker(at, {
          renderer: svg, radius: 7, color: "#ffffff", weight: 1.5, fillColor: UNSERVED,
          fillOpacity: 1, className: "lm-unserved"
        }).bindPopup(popupLines([
          "<b>order " + text(p.order_id) + "</b> unserved: " + text(p.reason),
          text(p.detail)
        ])).addTo(group);
      } else if (p.kind === "depot") {
        L.marker(at, {
          icon: L.divIcon({ className: "lm-depot", iconSize: [18, 18], html: "" }),
          title: "depot " + (p.code || p.id || ""), zIndexOffset: 1000
        }).bindPopup("<b>depot</b> " + text(p.name || p.code || p.id)).addTo(group);
      }
    });
    if (state.routes) {
      state.routes.remove();
    }
    state.routes = group.addTo(state.map);
    legend(state, routes, unserved, collection && collection.summary);
    return group;
  }

  function drawStreets(state, collection) {
    if (!collection || !collection.features || !collection.features.length) {
      return null;
    }
    return L.geoJSON(collection, {
      renderer: state.canvas, interactive: false,
      style: function () { return { color: STREET, weight: 1.5, opacity: 0.9 }; }
    }).addTo(state.map);
  }

  function fit(state, layers) {
    for (var i = 0; i < layers.length; i += 1) {
      var bounds = layers[i] && layers[i].getBounds();
      if (bounds && bounds.isValid()) {
        state.map.fitBounds(bounds, { padding: [24, 24], maxZoom: 17 });
        return;
      }
    }
    state.map.setView([0, 0], 2);
  }

  function failed(element, state, error) {
    element.setAttribute("data-map-error", String(error && error.message || error));
    note(state, "the map could not load: " + (error && error.message || error));
  }

  function draw(element) {
    if (element.lastmileMap) {
      return element.lastmileMap;
    }
    var map = L.map(element, { zoomSnap: 0.25, touchZoom: true, tap: true });
    map.createPane("lm-streets");
    map.getPane("lm-streets").style.zIndex = 350; /* under the routes (overlayPane, 400) */
    map.getPane("lm-streets").style.pointerEvents = "none";
    var state = {
      map: map,
      svg: L.svg(),
      canvas: L.canvas({ pane: "lm-streets", padding: 0.5 }),
      routes: null,
      legend: null,
      note: null
    };
    element.lastmileMap = state;
    element.classList.add("lm-map");
    var tiles = element.getAttribute("data-tile-url");
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 19 }).addTo(map);
    }
    var streets = source(element, "data-map-streets", "data-streets-url")
      .then(function (data) {
        state.streets = drawStreets(state, data);
        if (!state.streets && !tiles) {
          element.classList.add("lm-map-plain");
          note(state, NO_STREETS);
        }
        return state.streets;
      }, function (error) {
        if (!tiles) {
          element.classList.add("lm-map-plain");
          note(state, NO_STREETS);
        }
        return null;
      });
    var routes = source(element, "data-map-routes", "data-routes-url").then(function (data) {
      return data ? drawRoutes(state, data) : null;
    });
    state.ready = Promise.all([routes, streets]).then(function (layers) {
      fit(state, layers);
      element.setAttribute("data-map-ready", "");
      return state;
    }, function (error) {
      fit(state, [state.routes, state.streets]);
      failed(element, state, error);
      return state;
    });
    return state;
  }

  function reload(element) {
    var state = draw(element);
    var url = element.getAttribute("data-routes-url");
    if (!url) {
      return Promise.resolve(state);
    }
    return state.ready.then(function () {
      return fetchJson(url);
    }).then(function (data) {
      drawRoutes(state, data);
      element.removeAttribute("data-map-error");
      return state;
    }, function (error) {
      failed(element, state, error);
      return state;
    });
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-map]"), draw);
  }

  window.lastmileMap = { draw: draw, reload: reload };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
