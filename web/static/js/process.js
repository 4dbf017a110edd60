/* Draws an instance's BPMN diagram with bpmn-js and marks completed and current steps. */
(function () {
  "use strict";
  var box = document.getElementById("diagram");
  if (!box || typeof window.BpmnJS === "undefined") { return; }
  var status = document.getElementById("diagram-status");

  function say(text) { if (status) { status.textContent = text; } }

  function mark(canvas, registry, ids, cls) {
    ids.forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, cls); }
    });
  }

  fetch(box.getAttribute("data-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
    .then(function (data) {
      var viewer = new window.BpmnJS({ container: box });
      return viewer.importXML(data.xml).then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        canvas.zoom("fit-viewport", "auto");
        mark(canvas, registry, data.completed, "completed");
        mark(canvas, registry, data.current, "current");
        box.setAttribute("data-ready", "true");
        box.setAttribute("data-current", data.current.join(" "));
        box.setAttribute("data-completed", data.completed.join(" "));
        say("");
      });
    })
    .catch(function (err) { say("流程图加载失败：" + err.message); });
}());
