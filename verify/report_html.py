"""``report.html``: the verification report as one self-contained page, readable offline.

Everything is inside the file: styles and script inline, figures embedded as PNG data URIs
(re-encoded with a 256-colour palette when that is smaller: line plots lose nothing visible), and
a Content-Security-Policy that forbids every network request, so the page works from a mail
attachment or a CI artifact. It shows the run's summary, the user's direction or method and its
assumptions (when given), the drift from a baseline (``--compare``), a summary table with one
row per claim (filter by family and verdict, sort by any column by clicking its header), then
one section per claim: statement, source, what was reconstructed, assumptions, each part's
statistic against its threshold with its interval, the control's verdict and what it breaks, the
table by seed, errors and figures. It prints as a document (controls hidden, sections unbroken).

>>> import verify
>>> page = html(verify.run_claims("schedules.two-timescale", progress=False), None)
>>> page.startswith("<!DOCTYPE html>"), 'id="claims"' in page, "http://" in page or "https://" in page
(True, True, False)
"""
from __future__ import annotations

import base64
import html as _html
import io
import json

from .report_md import fmt

__all__ = ["html", "compact_png"]

STATUS_CLASS = {"verified": "good", "not verified": "bad", "not applicable": "na", "pass": "good", "fail": "bad",
                "inconclusive": "warn", "error": "bad", "not-applicable": "na", "not-checked": "na"}
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
       "base-uri 'none'; form-action 'none'")

STYLE = """
:root { --good: #17663a; --good-bg: #e3f4e8; --bad: #a61b1b; --bad-bg: #fbe5e5; --warn: #8a5a00;
  --warn-bg: #fdf1d8; --na: #555; --na-bg: #ececec; --line: #d0d4da; --muted: #5b6470; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1d232b;
  margin: 0 auto; max-width: 1180px; padding: 1rem 1.25rem 3rem; }
h1 { font-size: 1.6rem; margin: .5rem 0; } h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; }
h3 { font-size: 1.05rem; margin: 1.25rem 0 .4rem; }
.meta, .muted { color: var(--muted); font-size: .9rem; }
.overall { font-size: 1.1rem; padding: .5rem .75rem; border-radius: 6px; display: inline-block; }
.badge { display: inline-block; padding: 0 .45em; border-radius: 4px; font-weight: 600; font-size: .85em;
  white-space: nowrap; }
.good { color: var(--good); background: var(--good-bg); } .bad { color: var(--bad); background: var(--bad-bg); }
.warn { color: var(--warn); background: var(--warn-bg); } .na { color: var(--na); background: var(--na-bg); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
thead th { background: #f4f6f8; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
th button { all: unset; cursor: pointer; font-weight: 600; }
th button:focus-visible { outline: 2px solid #3b6fd8; }
th[aria-sort="ascending"] button::after { content: " \\25B2"; font-size: .7em; }
th[aria-sort="descending"] button::after { content: " \\25BC"; font-size: .7em; }
.controls { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; margin: .5rem 0; }
select { font: inherit; padding: .15rem .3rem; }
article.claim { border-top: 2px solid var(--line); margin-top: 2rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: .5rem 0; }
dt { font-weight: 600; } dd { margin: 0; } dd ul { margin: 0; padding-left: 1.2rem; }
.stat { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .85rem; white-space: nowrap; }
figure { margin: 1rem 0; break-inside: avoid; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { font-size: .85rem; color: var(--muted); }
pre { background: #f6f7f9; padding: .5rem; overflow-x: auto; font-size: .8rem; }
ul.attention li { margin: .2rem 0; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  .no-print { display: none !important; }
  thead th { position: static; }
  article.claim { break-before: page; }
  a { color: inherit; text-decoration: none; }
  details > *:not(summary) { display: block; }
}
"""

SCRIPT = """
(function () {
  var table = document.getElementById("claims");
  if (!table) { return; }
  var body = table.tBodies[0];
  var family = document.getElementById("family-filter");
  var verdict = document.getElementById("verdict-filter");
  var shown = document.getElementById("shown");
  function filter() {
    var f = family.value, v = verdict.value, count = 0;
    Array.prototype.forEach.call(body.rows, function (row) {
      var keep = (!f || row.dataset.family === f) && (!v || row.dataset.verdict === v);
      row.hidden = !keep;
      if (keep) { count += 1; }
    });
    document.querySelectorAll("article.claim").forEach(function (a) {
      a.hidden = !((!f || a.dataset.family === f) && (!v || a.dataset.verdict === v));
    });
    shown.textContent = count + " of " + body.rows.length + " claims shown";
  }
  function sortBy(th, index) {
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var numeric = th.dataset.type === "number";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[index].dataset.value, y = b.cells[index].dataset.value;
      var c = numeric ? (parseFloat(x) - parseFloat(y)) : x.localeCompare(y);
      return ascending ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
    th.querySelector("button").addEventListener("click", function () { sortBy(th, index); });
  });
  family.addEventListener("change", filter);
  verdict.addEventListener("change", filter);
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
  filter();
})();
"""


def _e(text) -> str:
    return _html.escape("" if text is None else str(text), quote=True)


def _badge(status) -> str:
    return f'<span class="badge {STATUS_CLASS.get(status, "na")}">{_e(status)}</span>'


def _anchor(claim_id: str) -> str:
    return "c-" + "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in claim_id)


def compact_png(png: bytes) -> bytes:
    """The PNG re-encoded with a 256-colour palette, when that is smaller (else unchanged).

    >>> from verify.report import subplots
    >>> fig, ax = subplots(); _ = ax.plot([0, 1], [1, 0]); buf = io.BytesIO(); fig.savefig(buf, format="png")
    >>> len(compact_png(buf.getvalue())) <= len(buf.getvalue())
    True
    """
    try:
        from PIL import Image  # matplotlib's own dependency
    except ImportError:  # pragma: no cover - matplotlib always brings Pillow
        return png
    image = Image.open(io.BytesIO(png)).convert("RGB")
    quantized = image.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    out = io.BytesIO()
    quantized.save(out, format="PNG", optimize=True)
    return min(png, out.getvalue(), key=len)


def _verdict_cell(v: dict) -> str:
    status = v.get("status")
    if status in ("error", "not-applicable") or v.get("statistic") is None:
        reason = (v.get("details") or {}).get("reason") or (v.get("details") or {}).get("error") or ""
        return f"{_badge(status)}<br><span class=muted>{_e(reason)[:400]}</span>"
    ci = v.get("ci")
    interval = f" [{fmt(ci[0])}, {fmt(ci[1])}]" if ci else ""
    op = "&le;" if v.get("better", "lower") == "lower" else "&ge;"
    return (f'{_badge(status)} <span class="stat">{_e(fmt(v.get("statistic")))}{_e(interval)} {op} '
            f'{_e(fmt(v.get("threshold")))}</span>')


def _header(doc) -> list:
    s = doc["summary"]
    seeds = doc["seeds"]
    seed_text = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {seeds[0]}..{seeds[-1]} ({len(seeds)})"
    versions = ", ".join(f"{k} {v}" for k, v in doc["versions"].items() if k != "platform")
    ok_class = "good" if s["ok"] else "bad"
    return ["<header>", "<h1>stochopt verification report</h1>",
            f'<p class="meta">Created {_e(doc["created"])} &middot; mode <b>{_e(doc["mode"])}</b> &middot; '
            f"{_e(seed_text)} &middot; {_e(versions)}</p>",
            f'<p class="overall {ok_class}"><b>{s["verified"]}/{s["claims"]} claims verified</b> ({s["parts"]} parts)'
            f'{", " + str(s["not_applicable"]) + " not applicable" if s.get("not_applicable") else ""}. '
            f'Overall: <b>{"OK" if s["ok"] else "NOT OK"}</b>.</p>',
            "<p>A claim is verified when, at every seed run, every one of its parts passes <em>and</em> every part's "
            "negative control (the same experiment with one assumption of that part broken) fails through the same "
            "statistic.</p>", "</header>"]


def _user(doc) -> list:
    user = doc.get("user") or {}
    if not (user.get("direction") or user.get("method")):
        return []
    kind = "direction" if user.get("direction") else "method"
    out = ['<section id="user">', f"<h2>Your {kind}: <code>{_e(user.get(kind))}</code></h2>",
           "<p>Parts declared to run a user object use it in place of the built-in ones; the other parts are not "
           "applicable.</p>"]
    a = user.get("assumptions")
    if a:
        out.append(f"<p>The framework's assumptions, checked numerically before any claim ran: "
                   f"{_badge('pass' if a['ok'] else 'fail')} "
                   f"{'all hold' if a['ok'] else 'violated: the parts that need them are not applicable'}.</p>")
        out += ['<div class="scroll"><table class="assumptions"><thead><tr><th>assumption</th><th>status</th>'
                "<th>what was found</th></tr></thead><tbody>"]
        for c in a["checks"]:
            out.append(f"<tr><td><b>{_e(c['name'])}</b><br><span class=muted>{_e(c['statement'])}</span></td>"
                       f"<td>{_badge(c['status'])}</td><td>{_e(c['message'])}</td></tr>")
        out.append("</tbody></table></div>")
        out += [f"<p class=muted>Note: {_e(n)}</p>" for n in a.get("notes", [])]
    return out + ["</section>"]


def _drift(doc) -> list:
    cmp = doc.get("compare")
    if not cmp:
        return []
    base = cmp.get("baseline") or {}
    verdicts = [d for d in cmp["drifts"] if d["kind"] == "verdict"]
    moved = [d for d in cmp["drifts"] if d["kind"] == "statistic"]
    out = ['<section id="drift">', "<h2>Drift from the baseline</h2>",
           f"<p>Baseline created {_e(base.get('created'))} ({_e(base.get('mode'))} mode): "
           f"{_badge('fail' if verdicts else 'pass')} {len(verdicts)} verdict(s) changed, {len(moved)} statistic(s) "
           "moved outside their baseline interval.</p>"]
    if cmp["drifts"]:
        out.append('<ul class="attention">' + "".join(
            f"<li>{_badge('fail' if d['kind'] == 'verdict' else 'inconclusive')} <a href=\"#{_anchor(d['claim'])}\">"
            f"{_e(d['claim'])}</a>: {_e(d['message'])}</li>" for d in cmp["drifts"]) + "</ul>")
    out += [f"<p class=muted>Note: {_e(n)}</p>" for n in cmp.get("notes", [])]
    return out + ["</section>"]


def _attention(doc) -> list:
    bad = [c for c in doc["claims"] if c["status"] == "not verified"]
    if not bad and not doc["load_errors"]:
        return []
    out = ['<section id="attention">', "<h2>Attention</h2>", '<ul class="attention">']
    for c in bad:
        problems = c.get("problems") or []
        out.append(f"<li><a href=\"#{_anchor(c['id'])}\"><b>{_e(c['id'])}</b></a>: "
                   f"{_e('; '.join(problems[:6]))}{' ...' if len(problems) > 6 else ''}</li>")
    for mod, tb in doc["load_errors"].items():
        out.append(f"<li><b>claim module {_e(mod)} failed to import</b>: <code>{_e(tb.strip().splitlines()[-1])}</code>"
                   "</li>")
    return out + ["</ul>", "</section>"]


def _summary(doc) -> list:
    claims = doc["claims"]
    families = sorted({c["family"] for c in claims})
    verdicts = [v for v in ("verified", "not verified", "not applicable") if any(c["status"] == v for c in claims)]
    drift = {}
    for d in (doc.get("compare") or {}).get("drifts", []):
        drift.setdefault(d["claim"], []).append(d["kind"])
    columns = [("claim", "text", ""), ("family", "text", ""), ("verdict", "text", ""), ("parts ok", "number", "num"),
               ("seeds ok", "number", "num"), ("runtime (s)", "number", "num")] + \
        ([("drift", "text", "")] if doc.get("compare") else [])
    out = ['<section id="summary">', "<h2>Summary</h2>", '<div class="controls no-print">',
           '<label>Family <select id="family-filter"><option value="">all</option>'
           + "".join(f'<option value="{_e(f)}">{_e(f)}</option>' for f in families) + "</select></label>",
           '<label>Verdict <select id="verdict-filter"><option value="">all</option>'
           + "".join(f'<option value="{_e(v)}">{_e(v)}</option>' for v in verdicts) + "</select></label>",
           '<span id="shown" class="muted" aria-live="polite"></span>', "</div>",
           '<div class="scroll"><table id="claims"><thead><tr>'
           + "".join(f'<th data-type="{t}" class="{cls}"><button type="button">{_e(name)}</button></th>'
                     for name, t, cls in columns) + "</tr></thead><tbody>"]
    for c in claims:
        n_ok = sum(p["ok"] for p in c["parts"])
        seeds_ok = sum(s["ok"] for s in c["by_seed"])
        frac_parts = n_ok / len(c["parts"]) if c["parts"] else 0.0
        frac_seeds = seeds_ok / len(c["by_seed"]) if c["by_seed"] else 0.0
        cells = [(c["id"], f"<a href=\"#{_anchor(c['id'])}\">{_e(c['id'])}</a>", ""),
                 (c["family"], _e(c["family"]), ""), (c["status"], _badge(c["status"]), ""),
                 (f"{frac_parts:.6f}", f"{n_ok}/{len(c['parts'])}", "num"),
                 (f"{frac_seeds:.6f}", f"{seeds_ok}/{len(c['by_seed'])}", "num"),
                 (f"{float(c['elapsed_s'] or 0.0):.6f}", f"{float(c['elapsed_s'] or 0.0):.1f}", "num")]
        if doc.get("compare"):
            kinds = drift.get(c["id"], [])
            text = ", ".join(sorted(set(kinds))) or "none"
            cells.append((text, _badge("fail") + " verdict" if "verdict" in kinds else _e(text), ""))
        out.append(f'<tr data-family="{_e(c["family"])}" data-verdict="{_e(c["status"])}">'
                   + "".join(f'<td data-value="{_e(v)}" class="{cls}">{h}</td>' for v, h, cls in cells) + "</tr>")
    return out + ["</tbody></table></div>", "</section>"]


def _parts_table(c) -> list:
    out = ['<div class="scroll"><table class="parts"><thead><tr><th>part</th><th>statistic (what number, which side '
           "is good, where the threshold comes from)</th><th>check</th><th>control (must fail)</th>"
           "<th>the control breaks</th></tr></thead><tbody>"]
    for p in c["parts"]:
        control = _verdict_cell(p["control"])
        if p["control"]["status"] == "pass":
            control += "<br><b class=bad>the control passed: the part cannot tell right from wrong</b>"
        out.append(f"<tr><td><b>{_e(p['name'])}</b></td><td>{_e(p['statistic'])}</td>"
                   f"<td>{_verdict_cell(p['check'])}</td><td>{control}</td><td>{_e(p['breaks'])}</td></tr>")
    return out + ["</tbody></table></div>"]


def _seed_table(c) -> list:
    if len(c["by_seed"]) < 2:
        return []
    names = [p["name"] for p in c["parts"]]
    out = ["<h3>By seed</h3>", '<div class="scroll"><table class="seeds"><thead><tr><th>seed</th><th>ok</th>'
           + "".join(f"<th>{_e(n)}<br><span class=muted>check / control</span></th>" for n in names)
           + "</tr></thead><tbody>"]
    for s in c["by_seed"]:
        cells = "".join(f"<td>{_verdict_cell(p['check'])}<br>{_verdict_cell(p['control'])}</td>" for p in s["parts"])
        out.append(f"<tr><td class=num>{s['seed']}</td><td>{_badge('pass' if s['ok'] else 'fail')}</td>{cells}</tr>")
    return out + ["</tbody></table></div>"]


def _errors(c) -> list:
    out = []
    for p in c["parts"]:
        for kind in ("check", "control"):
            tb = (p[kind].get("details") or {}).get("traceback")
            if p[kind]["status"] == "error" and tb:
                out += [f"<p>Error in the {kind} of part <b>{_e(p['name'])}</b>:</p>", f"<pre>{_e(tb.strip())}</pre>"]
    return out


def _figures(c, pngs) -> list:
    out = []
    for p in c["parts"]:
        for kind in ("check", "control"):
            for fig, png in zip(p[kind]["figures"], pngs.get((p["name"], kind), [])):
                data = base64.b64encode(compact_png(png)).decode("ascii")
                out.append(f'<figure><img alt="{_e(fig["caption"])}" src="data:image/png;base64,{data}">'
                           f"<figcaption><b>{_e(p['name'])}</b> ({kind}): {_e(fig['caption'])}</figcaption></figure>")
    return (["<h3>Figures</h3>"] + out) if out else []


def _claim_section(c, pngs) -> list:
    out = [f'<article class="claim" id="{_anchor(c["id"])}" data-family="{_e(c["family"])}" '
           f'data-verdict="{_e(c["status"])}">', f"<h2>{_e(c['id'])} {_badge(c['status'])}</h2>", "<dl>",
           f"<dt>Statement</dt><dd>{_e(c['statement'])}</dd>", f"<dt>Source</dt><dd>{_e(c['source'])}</dd>"]
    if c.get("reconstructed"):
        out.append(f"<dt>Reconstructed</dt><dd>{_e(c['reconstructed'])}</dd>")
    if c.get("assumptions"):
        out.append("<dt>Assumptions</dt><dd><ul>" + "".join(f"<li>{_e(a)}</li>" for a in c["assumptions"])
                   + "</ul></dd>")
    seeds_ok = sum(s["ok"] for s in c["by_seed"])
    out += [f"<dt>Verdict</dt><dd>{_badge(c['status'])} at {seeds_ok}/{len(c['by_seed'])} seeds, "
            f"{float(c['elapsed_s'] or 0.0):.1f} s</dd>", "</dl>"]
    out += _parts_table(c) + _seed_table(c) + _errors(c) + _figures(c, pngs)
    details = {p["name"]: {k: v for k, v in (p["check"].get("details") or {}).items() if k != "traceback"}
               for p in c["parts"]}
    if any(details.values()):
        out += ["<details><summary>details of the checks</summary>",
                f"<pre>{_e(json.dumps(details, indent=1)[:20000])}</pre>", "</details>"]
    return out + ["</article>"]


def html(results, doc) -> str:
    """The whole report.html text for ``results`` (``doc``: the results.json document, or None)."""
    from .report import _figure_files, results_dict

    if doc is None:
        doc = results_dict(results)
    pngs = {r.claim.id: {key: [f["png"] for f in files] for key, files in _figure_files(r).items()} for r in results}
    lines = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             '<link rel="icon" href="data:,">', "<title>stochopt verification report</title>",
             f"<style>{STYLE}</style>", "</head><body>"]
    lines += _header(doc) + _user(doc) + _drift(doc) + _attention(doc) + _summary(doc)
    lines.append("<main>")
    for c in doc["claims"]:
        lines += _claim_section(c, pngs.get(c["id"], {}))
    lines += ["</main>", f"<footer class=muted><p>Written by stochopt {_e(doc['versions'].get('stochopt'))} "
              f"on {_e(doc['versions'].get('platform'))}.</p></footer>", f"<script>{SCRIPT}</script>", "</body></html>"]
    return "\n".join(lines)
