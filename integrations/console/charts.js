// Requests and errors per day as bars (uPlot: a small canvas chart library, no eval, so the CSP holds).
export function barChart(target, reported, t, span = 30) {
  if (!target || !window.uPlot) return;
  target.replaceChildren();
  // every day of the span, a day without traffic as zero (the report lists only days with some)
  const byDay = Object.fromEntries(reported.map((d) => [d.day, d]));
  const days = [];
  for (let i = span - 1; i >= 0; i--) {
    const day = new Date(Date.now() - i * 86400000).toISOString().slice(0, 10);
    days.push(byDay[day] || { day, requests: 0, errors: 0 });
  }
  const xs = days.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000);
  const bars = window.uPlot.paths.bars({ size: [0.6, 40] });
  new window.uPlot({
    width: Math.min(900, target.clientWidth || 800),
    height: 220,
    series: [
      {},
      { label: t("usage.requests"), stroke: "#0b57d0", fill: "rgba(11,87,208,0.35)", paths: bars },
      { label: t("usage.errors"), stroke: "#a40e26", fill: "rgba(164,14,38,0.5)", paths: bars },
    ],
    axes: [{}, { label: t("usage.requests") }],
  }, [xs, days.map((d) => d.requests), days.map((d) => d.errors)], target);
}

export function lineChart(target, points, label) {
  if (!target || !window.uPlot) return;
  target.replaceChildren();
  new window.uPlot({
    width: Math.min(900, target.clientWidth || 800),
    height: 200,
    series: [{}, { label, stroke: "#0b57d0" }],
  }, [points.map((p) => p[0]), points.map((p) => p[1])], target);
}
