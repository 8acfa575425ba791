// tabs.js: the tabs of a page's side panel (chat and people), as the WAI-ARIA
// tabs pattern has them: one panel shown at a time, the selected tab in the
// tab order and the arrow keys, Home and End moving between tabs.

/**
 * tabs wires the tablist element: its role="tab" buttons show the panels
 * their aria-controls name. onselect(id) is told the tab chosen.
 */
export function tabs(list, onselect = () => {}) {
  const all = [...list.querySelectorAll('[role="tab"]')];
  const select = (tab, focus) => {
    for (const t of all) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) tab.focus();
    onselect(tab.id);
  };
  for (const t of all) t.addEventListener("click", () => select(t, false));
  list.addEventListener("keydown", (e) => {
    const i = all.indexOf(document.activeElement);
    if (i < 0) return;
    const rtl = getComputedStyle(list).direction === "rtl";
    const next = { ArrowRight: rtl ? -1 : 1, ArrowLeft: rtl ? 1 : -1 }[e.key];
    if (next) select(all[(i + next + all.length) % all.length], true);
    else if (e.key === "Home") select(all[0], true); // not user-facing
    else if (e.key === "End") select(all[all.length - 1], true); // not user-facing
    else return;
    e.preventDefault();
  });
  return { select: (id) => select(document.getElementById(id), false) };
}
