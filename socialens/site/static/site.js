/* SociaLens directory: client-side search, filters, sorting and paging over the data embedded in
   <script type="application/json" id="directory-data">. Works from disk (file://) and when served.
   Untrusted text is only ever assigned with textContent; links are set only for http(s) URLs. */
(function () {
  "use strict";
  var dataEl = document.getElementById("directory-data");
  var table = document.getElementById("directory");
  if (!dataEl || !table) { return; }
  var rows;
  try { rows = JSON.parse(dataEl.textContent); } catch (e) { return; }
  var PAGE = 50;
  var SAFE = /^https?:\/\//i;
  var tbody = table.tBodies[0];
  var $ = function (id) { return document.getElementById(id); };
  var controls = $("controls"), q = $("q"), fRole = $("f-role"), fDept = $("f-dept"),
      fPlat = $("f-platform"), fSort = $("f-sort"), status = $("status"), pager = $("pager"),
      prev = $("prev"), next = $("next"), pageinfo = $("pageinfo");
  var page = 0, view = rows;

  rows.forEach(function (r) {
    var parts = [r.n, r.t, r.d];
    (r.acc || []).forEach(function (a) { parts.push(a[0], a[1]); });
    r._q = parts.filter(Boolean).join(" ").toLowerCase();
    r._plats = (r.acc || []).map(function (a) { return a[0]; });
  });

  function cmp(key) {
    // larger first for counts, earlier first for adoption; missing values last
    return function (a, b) {
      var x = a[key], y = b[key];
      if (x === null || x === undefined) { return (y === null || y === undefined) ? a.o - b.o : 1; }
      if (y === null || y === undefined) { return -1; }
      if (key === "a") { return x < y ? -1 : x > y ? 1 : a.o - b.o; }
      return y - x || a.o - b.o;
    };
  }
  var SORT = { followers: "f", posts: "p", adopted: "a", internal: "i" };

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function cell(tr, label, text, cls) {
    var td = el("td", text, cls);
    td.setAttribute("data-label", label);
    tr.appendChild(td);
    return td;
  }
  function fmt(n) { return (n === null || n === undefined) ? "–" : Number(n).toLocaleString("en-US"); }
  function count(tr, label, n, why) {
    // an unknown count is shown as unknown, with the reason, never as 0
    if (n === null || n === undefined) {
      var td = cell(tr, label, null, "num");
      var u = el("span", "—", "unknown");
      u.setAttribute("title", why);
      td.appendChild(u);
      return td;
    }
    return cell(tr, label, fmt(n), "num");
  }

  function render() {
    var start = page * PAGE, slice = view.slice(start, start + PAGE);
    var frag = document.createDocumentFragment();
    slice.forEach(function (r, i) {
      var tr = document.createElement("tr");
      if (r.L) { tr.className = "leader"; }
      cell(tr, "Rank", fSort.value === "followers" ? (r.r || "–") : start + i + 1);
      var name = cell(tr, "Name");
      var a = el("a", r.n);
      a.setAttribute("href", "people/" + encodeURIComponent(r.s) + ".html");
      name.appendChild(a);
      if (r.L) { name.appendChild(document.createTextNode(" ")); name.appendChild(el("span", "leader", "badge")); }
      cell(tr, "Role", r.t || "");
      cell(tr, "Department", r.d || "");
      var acc = cell(tr, "Accounts");
      (r.acc || []).forEach(function (x, j) {
        if (j) { acc.appendChild(document.createElement("br")); }
        var span = el("span", null, "acct");
        span.appendChild(el("span", x[0], "platform"));
        span.appendChild(document.createTextNode(" "));
        var label = "@" + (x[1] || "");
        if (x[2] && SAFE.test(x[2])) {
          var l = el("a", label);
          l.setAttribute("href", x[2]);
          l.setAttribute("rel", "noopener nofollow noreferrer");
          l.setAttribute("target", "_blank");
          span.appendChild(l);
        } else { span.appendChild(document.createTextNode(label)); }
        acc.appendChild(span);
      });
      cell(tr, "Followers", fmt(r.f), "num");
      count(tr, "Posts", r.p, "no posts collected");
      cell(tr, "Adopted", r.a ? r.a.slice(0, 10) : "", "date");
      count(tr, "Internal followers", r.i, "no follows observed");
      cell(tr, "Latest post", r.lp || "", "latest");
      frag.appendChild(tr);
    });
    tbody.textContent = "";
    tbody.appendChild(frag);
    var pages = Math.max(1, Math.ceil(view.length / PAGE));
    status.textContent = view.length
      ? "Showing " + (start + 1) + "–" + (start + slice.length) + " of " + view.length +
        (view.length !== rows.length ? " (filtered from " + rows.length + ")" : "") + "."
      : "Nobody matches.";
    pageinfo.textContent = "Page " + (page + 1) + " of " + pages;
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    pager.hidden = pages <= 1;
  }

  function apply() {
    var terms = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var role = fRole.value, dept = fDept.value, plat = fPlat.value;
    view = rows.filter(function (r) {
      if (role === "__leaders" ? !r.L : (role && r.t !== role)) { return false; }
      if (dept && r.d !== dept) { return false; }
      if (plat && r._plats.indexOf(plat) < 0) { return false; }
      for (var k = 0; k < terms.length; k++) { if (r._q.indexOf(terms[k]) < 0) { return false; } }
      return true;
    });
    view.sort(cmp(SORT[fSort.value] || "f"));
    page = 0;
    render();
  }

  rows.forEach(function (r, i) { r.o = i; });
  controls.hidden = false;
  controls.addEventListener("submit", function (e) { e.preventDefault(); });
  q.addEventListener("input", apply);
  [fRole, fDept, fPlat, fSort].forEach(function (s) { s.addEventListener("change", apply); });
  prev.addEventListener("click", function () { if (page > 0) { page--; render(); table.focus(); } });
  next.addEventListener("click", function () { page++; render(); table.focus(); });
  table.setAttribute("tabindex", "-1");
  apply();
}());
