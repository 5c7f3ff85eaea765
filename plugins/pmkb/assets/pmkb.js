/* pmkb: filter the incident index in the page, no server. Rows carry data-* attributes;
   each <select data-key> narrows the rows to those whose attribute holds the value. */
(function () {
  function setup() {
    document.querySelectorAll("form[data-pmkb-filter]").forEach(function (form) {
      var table = form.parentElement.querySelector(".pmkb-index table");
      if (!table || form.dataset.ready) return;
      form.dataset.ready = "1";
      form.hidden = false;
      var rows = Array.prototype.slice.call(table.tBodies[0].rows);
      var selects = Array.prototype.slice.call(form.querySelectorAll("select[data-key]"));
      var out = form.querySelector("output");
      // multi-valued keys hold a JSON list: any value (a '|', double or edge spaces) is itself
      var lists = { cat: true, svc: true };
      function apply() {
        var shown = 0;
        rows.forEach(function (row) {
          var ok = selects.every(function (s) {
            if (!s.value) return true;
            var raw = row.getAttribute("data-" + s.dataset.key) || "";
            if (!lists[s.dataset.key]) return raw === s.value;
            try { return JSON.parse(raw || "[]").indexOf(s.value) >= 0; } catch (e) { return false; }
          });
          row.hidden = !ok;
          if (ok) shown++;
        });
        if (out) out.textContent = shown + " of " + rows.length + " shown";
      }
      selects.forEach(function (s) { s.addEventListener("change", apply); });
      apply();
    });
  }
  // Material's instant navigation swaps pages without a load event: subscribe when present.
  if (window.document$ && window.document$.subscribe) window.document$.subscribe(setup);
  else document.addEventListener("DOMContentLoaded", setup);
})();
