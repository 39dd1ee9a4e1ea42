// Accessibility fixes for HTML that the theme (pydata-sphinx-theme, sphinx-book-theme),
// MyST-NB and docutils write, found by axe-core (make browser-test, which runs
// tests/browser/check_site.mjs). Jupyter Book adds every .js file in _static/ to every
// page, in <head>: this file runs before the theme's deferred scripts and before the
// page body exists, so the fixes to the body wait for DOMContentLoaded.
"use strict";

// The theme logs "Got invalid theme mode: . Resetting to auto." (a console error) on a
// reader's first visit: it reads the colour mode from localStorage, falling back to the
// theme option default_mode, which the book leaves empty. "auto" is what it resets to.
if (!document.documentElement.dataset.mode) {
    document.documentElement.dataset.mode = "auto";
}

document.addEventListener("DOMContentLoaded", () => {
    // axe "label-content-name-mismatch" (WCAG 2.5.3, label in name): the accessible name
    // of a control must contain the text it shows.
    //
    // The search fields show "Search Ctrl+K" but are named "Search" by aria-label; without
    // the aria-label their name is the text they show.
    for (const button of document.querySelectorAll("button.search-button-field[aria-label]")) {
        button.removeAttribute("aria-label");
    }
    // MyST-NB's "Show code cell source" toggles are named "Toggle hidden content".
    for (const summary of document.querySelectorAll("details > summary[aria-label]")) {
        if (summary.textContent.trim() !== "") summary.removeAttribute("aria-label");
    }
    // The colour-mode button shows the icon of the current mode, titled "Light", "Dark"
    // or "System Settings", but is named "Color mode": name it "Color mode: <title>", and
    // again whenever the mode changes.
    const colourModeButtons = document.querySelectorAll("button.theme-switch-button");
    const nameColourModeButtons = () => {
        const mode = document.documentElement.dataset.mode;
        for (const button of colourModeButtons) {
            const icon = button.querySelector(`.theme-switch[data-mode="${mode}"]`);
            const title = icon?.getAttribute("title") ?? icon?.querySelector("title")?.textContent;
            if (title) button.setAttribute("aria-label", `Color mode: ${title}`);
        }
    };
    nameColourModeButtons();
    new MutationObserver(nameColourModeButtons).observe(document.documentElement, { attributeFilter: ["data-mode"] });

    // axe "aria-required-children" and "aria-deprecated-role": docutils writes the
    // bibliography as a role="list" whose entries have the deprecated role
    // "doc-biblioentry", which is not a list item; make them list items.
    for (const entry of document.querySelectorAll('[role="list"] > [role="doc-biblioentry"]')) {
        entry.setAttribute("role", "listitem");
    }
});
