"""The review page: one self-contained index.html beside the clips, opened from the file
system (no server). It shows each clip's spectrogram (clips/<id>.png) and an audio player
(clips/<id>.wav); yes / no / unsure by button or key (y, n, u; then the next clip), arrows
move, space plays; a select corrects the class of a multi-class detection. Verdicts are
kept in the browser's localStorage (per page file), so a reload or a later visit goes on
where it stopped; Export downloads the filled sample.csv (same columns and values, with
`verdict` and `corrected_class` filled) for the verdict folder.
"""

from __future__ import annotations

import html
import io
import json

import pandas as pd

from sonoflow.review.verdicts import CSV_CORRECTION

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Review __TITLE__</title>
<style>
body { font-family: sans-serif; margin: 0; background: #f4f4f4; color: #222; }
header { position: sticky; top: 0; background: #263238; color: #fff; padding: 8px 16px;
  display: flex; gap: 16px; align-items: center; z-index: 1; }
header h1 { font-size: 18px; margin: 0; }
header .keys { font-size: 12px; opacity: 0.8; flex: 1; }
#progress { font-weight: bold; }
button { cursor: pointer; border: 1px solid #999; border-radius: 4px; padding: 4px 10px;
  background: #fff; }
#export { background: #4caf50; color: #fff; border-color: #388e3c; }
main { display: flex; flex-wrap: wrap; gap: 12px; padding: 12px; }
.clip { background: #fff; border: 3px solid transparent; border-radius: 6px; padding: 6px;
  width: 400px; }
.clip.current { border-color: #1e88e5; }
.clip img { width: 384px; display: block; }
.clip audio { width: 384px; margin-top: 4px; }
.clip .info { font-size: 12px; margin: 4px 0; }
.clip .row { display: flex; gap: 6px; align-items: center; font-size: 12px; }
.clip button.on { color: #fff; }
.clip button.yes.on { background: #43a047; }
.clip button.no.on { background: #e53935; }
.clip button.unsure.on { background: #fb8c00; }
.clip.yes { background: #e8f5e9; }
.clip.no { background: #ffebee; }
.clip.unsure { background: #fff3e0; }
</style>
</head>
<body>
<header>
<h1>Review __TITLE__</h1>
<span id="progress"></span>
<span class="keys">keys: y yes, n no, u unsure (then the next clip); arrows move; space
plays; verdicts stay in this browser until you export</span>
<button id="export" type="button">Export sample.csv</button>
</header>
<main id="clips"></main>
<script id="sample" type="application/json">__SAMPLE__</script>
<script>
"use strict";
const SAMPLE = JSON.parse(document.getElementById("sample").textContent);
// per page file: two projects' reviews of the same name never share verdicts
const KEY = "sonoflow-review:" + location.pathname;
const COL = Object.fromEntries(SAMPLE.columns.map((c, i) => [c, i]));
const state = JSON.parse(localStorage.getItem(KEY) || "{}");
let current = 0;
const cards = [];

function save() { localStorage.setItem(KEY, JSON.stringify(state)); }
function entry(id) { return state[id] || { verdict: "", corrected_class: "" }; }

function render(i) {
  const id = SAMPLE.rows[i][COL.id];
  const card = cards[i];
  const got = entry(id);
  card.className = "clip" + (i === current ? " current" : "") +
    (got.verdict ? " " + got.verdict : "");
  for (const b of card.querySelectorAll("button[data-verdict]")) {
    b.classList.toggle("on", b.dataset.verdict === got.verdict);
  }
  const select = card.querySelector("select");
  if (select) select.value = got.corrected_class;
}

function progress() {
  const done = SAMPLE.rows.filter(r => {
    const e = entry(r[COL.id]);
    return e.verdict || e.corrected_class;
  }).length;
  document.getElementById("progress").textContent = done + " / " + SAMPLE.rows.length + " reviewed";
}

function setVerdict(i, verdict) {
  const id = SAMPLE.rows[i][COL.id];
  state[id] = { ...entry(id), verdict: entry(id).verdict === verdict ? "" : verdict };
  save(); render(i); progress();
}

function setCorrection(i, label) {
  const id = SAMPLE.rows[i][COL.id];
  state[id] = { ...entry(id), corrected_class: label };
  save(); render(i); progress();
}

function move(i) {
  if (!cards.length) return;
  const old = current;
  current = Math.max(0, Math.min(cards.length - 1, i));
  render(old); render(current);
  cards[current].scrollIntoView({ block: "nearest" });
  localStorage.setItem(KEY + ":current", String(current));
}

function build() {
  const main = document.getElementById("clips");
  SAMPLE.rows.forEach((row, i) => {
    const id = row[COL.id];
    const card = document.createElement("div");
    card.id = "clip-" + id;
    const img = document.createElement("img");
    img.src = "clips/" + id + ".png"; img.alt = "spectrogram of clip " + id; img.loading = "lazy";
    const audio = document.createElement("audio");
    audio.controls = true; audio.preload = "none"; audio.src = "clips/" + id + ".wav";
    const info = document.createElement("div");
    info.className = "info";
    const start = Number(row[COL.start_s]).toFixed(2), end = Number(row[COL.end_s]).toFixed(2);
    info.textContent = (i + 1) + ". " + row[COL.class] + "  score " +
      Number(row[COL.score]).toFixed(3) + "  " + row[COL.recording] + "  " + start + "-" + end +
      " s  (" + id + ")";
    const buttons = document.createElement("div");
    buttons.className = "row";
    const choices = [["yes", "Yes (y)"], ["no", "No (n)"], ["unsure", "Unsure (u)"]];
    for (const [verdict, text] of choices) {
      const b = document.createElement("button");
      b.type = "button"; b.className = verdict; b.dataset.verdict = verdict; b.textContent = text;
      b.addEventListener("click", ev => { ev.stopPropagation(); move(i); setVerdict(i, verdict); });
      buttons.appendChild(b);
    }
    if (SAMPLE.classes.length > 1) {
      const label = document.createElement("label");
      label.textContent = "really: ";
      const select = document.createElement("select");
      select.className = "correction";
      for (const c of ["", ...SAMPLE.classes.filter(c => c !== row[COL.class]), "noise"]) {
        const o = document.createElement("option");
        o.value = c; o.textContent = c || "(as detected)";
        select.appendChild(o);
      }
      select.addEventListener("change", () => setCorrection(i, select.value));
      label.appendChild(select);
      buttons.appendChild(label);
    }
    card.append(info, img, audio, buttons);
    card.addEventListener("click", () => move(i));
    main.appendChild(card);
    cards.push(card);
  });
  const last = Number(localStorage.getItem(KEY + ":current") || 0);
  current = Math.min(last, Math.max(cards.length - 1, 0));
  cards.forEach((_, i) => render(i));
  progress();
}

function csvCell(text) {
  return /[",\\r\\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

function exportCsv() {
  const lines = [SAMPLE.columns.map(csvCell).join(",")];
  for (const row of SAMPLE.rows) {
    const out = row.slice();
    const got = entry(row[COL.id]);
    out[COL.verdict] = got.verdict;
    out[COL[SAMPLE.correction]] = got.corrected_class;
    lines.push(out.map(csvCell).join(","));
  }
  const blob = new Blob([lines.join("\\n") + "\\n"], { type: "text/csv" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = "sample.csv";
  document.body.appendChild(link);
  link.click();
  link.remove();
}

document.addEventListener("keydown", ev => {
  if (ev.target.tagName === "SELECT" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const key = ev.key.toLowerCase();
  const verdict = { y: "yes", n: "no", u: "unsure" }[key];
  if (verdict) { setVerdict(current, verdict); move(current + 1); ev.preventDefault(); }
  else if (key === "arrowdown" || key === "arrowright") { move(current + 1); ev.preventDefault(); }
  else if (key === "arrowup" || key === "arrowleft") { move(current - 1); ev.preventDefault(); }
  else if (key === " ") {
    const audio = cards[current] && cards[current].querySelector("audio");
    if (audio) { audio.paused ? audio.play() : audio.pause(); }
    ev.preventDefault();
  }
});
document.getElementById("export").addEventListener("click", exportCsv);
build();
</script>
</body>
</html>
"""


def review_page(name: str, sample_text: str, classes: list[str]) -> str:
    """The page of a review named `name` over the sample.csv text `sample_text`."""
    table = pd.read_csv(io.StringIO(sample_text), dtype=str, keep_default_na=False)
    data = {
        "name": name,
        "columns": list(table.columns),
        "rows": table.to_numpy().tolist(),
        "classes": list(classes),
        "correction": CSV_CORRECTION[0],
    }
    embedded = json.dumps(data).replace("</", "<\\/")
    return PAGE.replace("__TITLE__", html.escape(name)).replace("__SAMPLE__", embedded)
