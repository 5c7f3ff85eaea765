/* pmkb: filter and sort the incident index in the page, no server. Rows carry data-*
   attributes; each <select data-key> narrows the rows to those whose attribute holds the
   value, the text box to those holding every word typed, and the column headings sort.
   The state lives in the address (?sev=SEV2&text=schema&sort=sev&dir=asc; not "q", which
   the theme reads as a search to open): a filtered list can be shared as a link, and a
   reload or the back button shows the same view. */
(function () {
  // attributes that hold several values, as a JSON list: any value (a '|', double or edge
  // spaces) is itself
  var LISTS = { cat: true, svc: true, model: true, tag: true };

  function values(row, key) {
    try { return JSON.parse(row.getAttribute("data-" + key) || "[]"); } catch (e) { return []; }
  }
  var SORTS = ["id", "title", "sev", "date", "status", "cat"];

  function setupIndex(form) {
    var wrap = form.parentElement.querySelector(".pmkb-index");
    var table = wrap && wrap.querySelector("table");
    if (!table || form.dataset.ready) return;
    form.dataset.ready = "1";
    form.hidden = false;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (row, i) {
      row._order = i;   // the page's order: newest first
      row._text = (row.textContent + " " + ["svc", "model", "tag"].map(function (k) {
        return values(row, k).join(" ");
      }).join(" ") + " " + (row.getAttribute("data-team") || "")).toLowerCase();
    });
    var selects = Array.prototype.slice.call(form.querySelectorAll("select[data-key]"));
    var text = form.querySelector("input[data-key=text]");
    var out = form.querySelector("output");
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var sort = { key: "date", dir: "desc" };

    heads.forEach(function (th) {
      // a button in each heading: reachable by keyboard, announced as a control
      var button = document.createElement("button");
      button.type = "button";
      button.className = "pmkb-sort";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () {
        var key = th.dataset.sort;
        var dir = sort.key === key ? (sort.dir === "asc" ? "desc" : "asc") : (key === "date" ? "desc" : "asc");
        sort = { key: key, dir: dir };
        sortRows();
        save();
      });
    });

    function cellText(row, key) {
      var i = SORTS.indexOf(key);
      return i < 0 ? "" : row.cells[i].textContent.trim().toLowerCase();
    }

    function compare(a, b) {
      var k = sort.key, x, y;
      if (k === "date") { x = -a._order; y = -b._order; }            // the page's order is (started, id)
      else if (k === "sev") { x = +a.dataset.rank; y = +b.dataset.rank; }
      else { x = cellText(a, k); y = cellText(b, k); }
      if (x === y) return a._order - b._order;                       // ties keep newest first
      return (x < y) === (sort.dir === "asc") ? -1 : 1;
    }

    function sortRows() {
      var sorted = rows.slice().sort(compare);
      var frag = document.createDocumentFragment();
      sorted.forEach(function (row) { frag.appendChild(row); });
      body.appendChild(frag);
      heads.forEach(function (th) {
        if (th.dataset.sort === sort.key) th.setAttribute("aria-sort", sort.dir === "asc" ? "ascending" : "descending");
        else th.removeAttribute("aria-sort");
      });
    }

    function apply() {
      var words = text ? text.value.toLowerCase().split(/\s+/).filter(Boolean) : [];
      var shown = 0;
      rows.forEach(function (row) {
        var ok = selects.every(function (s) {
          if (!s.value) return true;
          if (LISTS[s.dataset.key]) return values(row, s.dataset.key).indexOf(s.value) >= 0;
          return (row.getAttribute("data-" + s.dataset.key) || "") === s.value;
        }) && words.every(function (w) { return row._text.indexOf(w) >= 0; });
        row.hidden = !ok;
        if (ok) shown++;
      });
      if (out) out.textContent = shown + " of " + rows.length + " shown";
    }

    function save() {
      var params = new URLSearchParams();
      if (text && text.value.trim()) params.set("text", text.value.trim());
      selects.forEach(function (s) { if (s.value) params.set(s.dataset.key, s.value); });
      if (sort.key !== "date" || sort.dir !== "desc") { params.set("sort", sort.key); params.set("dir", sort.dir); }
      var query = params.toString();
      history.replaceState(history.state, "", location.pathname + (query ? "?" + query : "") + location.hash);
    }

    function load() {
      var params = new URLSearchParams(location.search);
      selects.forEach(function (s) {
        var v = params.get(s.dataset.key) || "";
        if (v && !Array.prototype.some.call(s.options, function (o) { return o.value === v; })) {
          // a shared link may name a value this site no longer has: show it, and that nothing matches
          var o = document.createElement("option");
          o.textContent = v;
          s.appendChild(o);
        }
        s.value = v;
      });
      if (text) text.value = params.get("text") || "";
      var key = params.get("sort"), dir = params.get("dir");
      sort = { key: SORTS.indexOf(key) >= 0 ? key : "date", dir: dir === "asc" || dir === "desc" ? dir : (key && key !== "date" ? "asc" : "desc") };
      sortRows();
      apply();
    }

    var timer = null;
    selects.forEach(function (s) { s.addEventListener("change", function () { apply(); save(); }); });
    if (text) text.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { apply(); save(); }, rows.length > 2000 ? 150 : 0);
    });
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    var clear = form.querySelector("[data-pmkb-clear]");
    if (clear) clear.addEventListener("click", function (e) {
      e.preventDefault();
      history.replaceState(history.state, "", location.pathname + location.hash);
      load();
    });
    window.addEventListener("popstate", load);
    load();
  }

  function setup() {
    document.querySelectorAll("form[data-pmkb-filter]").forEach(setupIndex);
  }
  // Material's instant navigation swaps pages without a load event: subscribe when present.
  if (window.document$ && window.document$.subscribe) window.document$.subscribe(setup);
  else document.addEventListener("DOMContentLoaded", setup);
})();
