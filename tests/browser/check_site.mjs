// Real-browser test of the built book: Debian's Chromium, driven by playwright-core,
// visits every page of the table of contents and checks what a reader would see.
//
//   node tests/browser/check_site.mjs HTML_DIR [--toc FILE] [--screenshots DIR] [--draw-fixture FILE]
//
// HTML_DIR is the built site (normally _build/html). The table of contents is read
// from HTML_DIR/../../_toc.yml unless --toc is given; screenshots go to
// HTML_DIR/../browser (normally _build/browser) unless --screenshots is given. The page
// "Draw a digit" is compared with NumPy on the digits of --draw-fixture (by default
// draw_parity.json in the screenshots folder, which make browser-test writes first).
// CHROMIUM_PATH overrides /usr/bin/chromium. The exit code is 0 only when every
// check passed; the closing lines summarise what was checked and what failed.
// tests/browser/README.md says what is checked and why.

import { existsSync, readFileSync, statSync, mkdirSync, createReadStream } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import process from "node:process";
import { gzipSync } from "node:zlib";

import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------- settings

// "No page over 3 MB", in decimal megabytes, of what a reader downloads: the page's HTML
// and every file the browser fetched for it, each counted as a web server sends it
// (gzip-compressed for text formats, as GitHub Pages and CDNs do; fonts and pictures
// as they are). The uncompressed total is reported too.
const PAGE_SIZE_LIMIT_BYTES = 3_000_000;
const SEARCH_WORD = "stride";
// The chapter the search for SEARCH_WORD must find (it is the chapter about strides).
const SEARCH_MUST_FIND = "chapters/03_padding_and_stride.html";
// Pages saved as screenshots for the record: the landing page, the chapter with the
// animation, and the search results (taken separately, below).
const SCREENSHOT_PAGES = ["chapters/index", "chapters/03_padding_and_stride"];
const MATHJAX_TIMEOUT_MS = 30_000;

// The page "Draw a digit" (chapters/draw_a_digit.md, _static/draw/draw.mjs): its own checks.
const DRAW_PAGE = "chapters/draw_a_digit.html";
// Its limit: the page and all it loads (the network's 738 kB of weights among them).
const DRAW_PAGE_SIZE_LIMIT_BYTES = 1_500_000;
// The page's JavaScript against NumPy (float64) on the digits of draw_parity.json, which
// tools/draw_parity_fixture.py writes from the weights the built page loads.
const DRAW_PROBABILITY_TOLERANCE = 1e-4;
const DRAW_LOAD_TIMEOUT_MS = 20_000;
// Strokes a reader might draw, as points in fractions of the drawing area's width and
// height (each list is one stroke, pointer down at its first point, up at its last).
const DRAW_STROKES = {
    1: [[[0.5, 0.18], [0.5, 0.82]]],
    7: [[[0.28, 0.22], [0.72, 0.22]], [[0.72, 0.22], [0.42, 0.82]]],
};
const ANIMATION_TIMEOUT_MS = 8_000;

// Sphinx loads MathJax 3 from this CDN address on every page with maths. The machines that run
// this test are offline, so requests below this prefix are answered from the npm
// package "mathjax" (pinned in package.json to 3.2.2, the newest 3.x release, which
// is what "mathjax@3" on the CDN resolves to). This checks that the page's maths
// renders with the MathJax it asks for; it does not check that the CDN is up.
const MATHJAX_CDN_PREFIX = "https://cdn.jsdelivr.net/npm/mathjax@3/";
const MATHJAX_PACKAGE_DIR = path.dirname(require.resolve("mathjax/package.json"));
const AXE_SCRIPT = require.resolve("axe-core/axe.min.js");

// ---------------------------------------------------------------- arguments

function parseArguments(argv) {
    const options = { htmlDir: null, toc: null, screenshots: null, drawFixture: null };
    for (let index = 0; index < argv.length; index++) {
        const argument = argv[index];
        if (argument === "--toc") options.toc = argv[++index];
        else if (argument === "--screenshots") options.screenshots = argv[++index];
        else if (argument === "--draw-fixture") options.drawFixture = argv[++index];
        else if (argument.startsWith("--")) fail(`unknown option ${argument}`);
        else if (options.htmlDir === null) options.htmlDir = argument;
        else fail(`unexpected argument ${argument}`);
    }
    if (options.htmlDir === null) fail("usage: node tests/browser/check_site.mjs HTML_DIR [--toc FILE] [--screenshots DIR] [--draw-fixture FILE]");
    options.htmlDir = path.resolve(options.htmlDir);
    options.toc = path.resolve(options.toc ?? path.join(options.htmlDir, "..", "..", "_toc.yml"));
    options.screenshots = path.resolve(options.screenshots ?? path.join(options.htmlDir, "..", "browser"));
    options.drawFixture = path.resolve(options.drawFixture ?? path.join(options.screenshots, "draw_parity.json"));
    return options;
}

function fail(message) {
    console.error(`browser test: ${message}`);
    process.exit(2);
}

// ---------------------------------------------------------------- table of contents

// The pages of _toc.yml, as paths of HTML files relative to the site. Our _toc.yml
// (format jb-book) names pages only with "root:" and "file:" keys, so two patterns
// read it without a YAML library; "url:" entries are external links, not pages.
function readTableOfContents(tocFile) {
    const pages = [];
    for (const line of readFileSync(tocFile, "utf8").split("\n")) {
        const match = line.match(/^\s*(?:-\s*)?(?:root|file)\s*:\s*["']?([^"'#\s]+)["']?\s*(?:#.*)?$/);
        if (match) pages.push(match[1].replace(/\.(md|ipynb)$/, "") + ".html");
    }
    if (pages.length === 0) fail(`no "root:" or "file:" entries found in ${tocFile}`);
    return pages;
}

// ---------------------------------------------------------------- local web server

const CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".txt": "text/plain; charset=utf-8",
    ".ipynb": "application/json",
    ".md": "text/markdown; charset=utf-8",
    ".inv": "application/octet-stream",
};

function contentType(file) {
    return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
}

// The file a site path names, or null if it would leave the site's directory.
function fileForSitePath(rootDir, sitePath) {
    let decoded;
    try {
        decoded = decodeURIComponent(sitePath);
    } catch {
        return null;
    }
    const file = path.join(rootDir, decoded.endsWith("/") ? decoded + "index.html" : decoded);
    return file === rootDir || file.startsWith(rootDir + path.sep) ? file : null;
}

function isFile(file) {
    return file !== null && existsSync(file) && statSync(file).isFile();
}

// Formats a web server compresses; the others (PNG, WOFF2, ...) are compressed already.
const COMPRESSED_ON_THE_WIRE = new Set([".html", ".js", ".mjs", ".css", ".json", ".svg", ".txt", ".ipynb", ".md", ".ttf"]);
const wireSizes = new Map();

// The bytes a web server sends for a file: gzip (level 6, the usual default) for text
// formats, the file as it is otherwise. Returns { wire, raw }.
function sizeOnTheWire(file) {
    if (!wireSizes.has(file)) {
        const content = readFileSync(file);
        const compress = COMPRESSED_ON_THE_WIRE.has(path.extname(file).toLowerCase());
        wireSizes.set(file, { wire: compress ? gzipSync(content, { level: 6 }).length : content.length, raw: content.length });
    }
    return wireSizes.get(file);
}

// A plain static server on 127.0.0.1 (a random free port).
function startServer(rootDir) {
    const server = createServer((request, response) => {
        const file = fileForSitePath(rootDir, new URL(request.url, "http://127.0.0.1").pathname);
        if (!isFile(file)) {
            response.writeHead(404, { "Content-Type": "text/plain" });
            response.end("not found");
            return;
        }
        response.writeHead(200, { "Content-Type": contentType(file), "Content-Length": statSync(file).size });
        createReadStream(file).pipe(response);
    });
    return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

// ---------------------------------------------------------------- in-page checks

// Run in the page: every <img>, after waiting (bounded) for those still loading.
async function inspectImages(timeoutMs) {
    const images = [...document.images];
    const deadline = Date.now() + timeoutMs;
    while (images.some((image) => !image.complete) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return images.map((image) => ({
        source: image.currentSrc.startsWith("data:") ? `data: URI (${image.id || "no id"})` : image.currentSrc,
        complete: image.complete,
        naturalWidth: image.naturalWidth,
    }));
}

// Run in the page: text that still looks like TeX after MathJax ran. Two signs:
// dollar-delimited text outside code, and Sphinx's math elements (class "math",
// which MathJax is configured to process) that hold no rendered mjx-container.
function findRawMath() {
    const skipped = "pre, code, script, style, textarea, mjx-container, .highlight, .cell_output .output.text_plain";
    const dollars = /\$\$[\s\S]+?\$\$|\$[^\s$][^$\n]*?\$/g;
    const found = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (node.parentElement?.closest(skipped)) continue;
        for (const match of node.textContent.matchAll(dollars)) found.push(match[0].slice(0, 80));
    }
    for (const element of document.querySelectorAll("span.math, div.math")) {
        if (!element.querySelector("mjx-container")) found.push(`unrendered ${element.tagName.toLowerCase()}.math: ${element.textContent.trim().slice(0, 80)}`);
    }
    return found;
}

// Run in the page: the animations written by matplotlib's to_jshtml (a div.animation
// holding an <img>, a frame slider and the buttons). Returns what each one has.
function describeAnimations() {
    const wantedButtons = ["First frame", "Previous frame", "Play", "Pause", "Next frame", "Last frame"];
    // A button shows something if it holds text or a child that takes up space (an
    // icon font glyph, an SVG); an icon whose style sheet failed to load is 0 px wide.
    const showsSomething = (button) =>
        button.textContent.trim() !== "" || [...button.children].some((child) => child.getBoundingClientRect().width > 0);
    return [...document.querySelectorAll("div.animation")].map((animation, index) => {
        const buttons = [...animation.querySelectorAll("button")];
        const label = (button) => button.getAttribute("aria-label") ?? button.title ?? "";
        return {
            index,
            hasImage: animation.querySelector("img") !== null,
            hasSlider: animation.querySelector("input[type=range]") !== null,
            missingButtons: wantedButtons.filter((wanted) => !buttons.some((button) => label(button) === wanted)),
            emptyButtons: buttons.filter((button) => !showsSomething(button)).map(label),
        };
    });
}

// Run in the page: the frame an animation shows (slider position and image source).
function animationFrame(index) {
    const animation = document.querySelectorAll("div.animation")[index];
    return {
        slider: animation.querySelector("input[type=range]").value,
        image: animation.querySelector("img").getAttribute("src")?.slice(-64) ?? "",
    };
}

// Run in the page: every link and every element id, for the link check.
function collectLinksAndIds() {
    return {
        links: [...document.querySelectorAll("a[href]")].map((anchor) => ({
            href: anchor.getAttribute("href"),
            absolute: anchor.href,
        })),
        ids: [...document.querySelectorAll("[id], a[name]")].map((element) => element.id || element.getAttribute("name")),
    };
}

// ---------------------------------------------------------------- one page

// Opens a page with everything recorded: console errors, uncaught exceptions, failed
// requests, and the files it loaded (for its size).
async function openPage(context, url, report) {
    const page = await context.newPage();
    const record = { consoleErrors: [], failedRequests: [], files: [], requestCount: 0 };
    page.on("console", (message) => {
        if (message.type() !== "error") return;
        const source = message.location()?.url ?? "";
        // A blocked request to another host also shows up as a console error; it is
        // reported once, as a request to another host. Likewise "Failed to load resource"
        // repeats a failed request, which is reported as such.
        if (report.blockedExternalUrls.has(source) || message.text().startsWith("Failed to load resource")) return;
        record.consoleErrors.push(`${message.text()}${source ? ` (${source})` : ""}`);
    });
    page.on("pageerror", (error) => record.consoleErrors.push(`uncaught exception: ${error.message}`));
    page.on("requestfailed", (request) => {
        if (report.blockedExternalUrls.has(request.url())) return;
        record.failedRequests.push(`${request.url()} (${request.failure()?.errorText})`);
    });
    page.on("requestfinished", (request) => {
        record.requestCount += 1;
        const file = report.fileForUrl(request.url());
        if (isFile(file)) record.files.push(file);
    });
    page.on("response", (response) => {
        if (response.status() >= 400) record.failedRequests.push(`${response.url()} (HTTP ${response.status()})`);
    });
    const response = await page.goto(url, { waitUntil: "load" });
    if (!response || !response.ok()) record.failedRequests.push(`${url} (HTTP ${response?.status()})`);
    return { page, record };
}

// MathJax 3 exposes MathJax.startup.promise once its script ran; it resolves when
// the first typesetting pass is over. Sphinx loads MathJax only on pages with maths;
// on those, a MathJax that never starts fails the page (and its maths stays raw TeX,
// which findRawMath reports on any page).
async function waitForMathJax(page) {
    if ((await page.locator('script[src*="mathjax"]').count()) === 0) return null;
    try {
        await page.waitForFunction(() => window.MathJax?.startup?.promise !== undefined, null, { timeout: MATHJAX_TIMEOUT_MS });
        await page.evaluate(() => window.MathJax.startup.promise);
        return null;
    } catch (error) {
        return `MathJax did not start or finish within ${MATHJAX_TIMEOUT_MS / 1000} s (${error.message.split("\n")[0]})`;
    }
}

async function checkAnimations(page, pageName, report) {
    const animations = await page.evaluate(describeAnimations);
    let playing = 0;
    for (const animation of animations) {
        const where = `${pageName}: animation ${animation.index + 1}`;
        if (!animation.hasImage) report.fail("animations", `${where} has no <img>`);
        if (!animation.hasSlider) report.fail("animations", `${where} has no frame slider`);
        if (animation.missingButtons.length) report.fail("animations", `${where} lacks the buttons ${animation.missingButtons.join(", ")}`);
        if (animation.emptyButtons.length) report.fail("animations", `${where} has buttons that show nothing (icon not loaded?): ${animation.emptyButtons.join(", ")}`);
        if (!animation.hasImage || !animation.hasSlider || animation.missingButtons.includes("Play")) continue;
        // Play it: the shown frame must change within a few frame intervals.
        const container = page.locator("div.animation").nth(animation.index);
        await container.locator("button[aria-label='First frame'], button[title='First frame']").first().click();
        const before = await page.evaluate(animationFrame, animation.index);
        await container.locator("button[aria-label='Play'], button[title='Play']").first().click();
        try {
            await page.waitForFunction(
                ({ index, before }) => {
                    const animation = document.querySelectorAll("div.animation")[index];
                    return animation.querySelector("input[type=range]").value !== before.slider;
                },
                { index: animation.index, before },
                { timeout: ANIMATION_TIMEOUT_MS },
            );
            const after = await page.evaluate(animationFrame, animation.index);
            if (after.image === before.image) report.fail("animations", `${where}: the slider moved but the picture did not change`);
            else playing += 1;
        } catch {
            report.fail("animations", `${where}: pressing Play did not advance the frame within ${ANIMATION_TIMEOUT_MS / 1000} s`);
        }
        await container.locator("button[aria-label='Pause'], button[title='Pause']").first().click();
    }
    return { found: animations.length, playing };
}

async function runAxe(page) {
    await page.addScriptTag({ path: AXE_SCRIPT }); // inlined: no network request
    // All of axe's rules except the "experimental" ones run (its default). None are
    // turned off.
    return page.evaluate(async () => {
        const results = await window.axe.run(document, { resultTypes: ["violations"] });
        return results.violations.map((violation) => ({
            id: violation.id,
            impact: violation.impact,
            help: violation.help,
            nodes: violation.nodes.length,
            targets: violation.nodes.slice(0, 3).map((node) => node.target.join(" ")),
        }));
    });
}

async function checkPage(context, baseUrl, pageName, options, report) {
    const url = new URL(pageName, baseUrl).href;
    const { page, record } = await openPage(context, url, report);
    const summary = { page: pageName, bytes: 0, uncompressedBytes: 0, requests: 0, images: 0, links: 0, axe: [] };

    const mathJaxProblem = await waitForMathJax(page);
    if (mathJaxProblem) report.fail("maths", `${pageName}: ${mathJaxProblem}`);

    // Scroll to the bottom so that lazily loaded images load too, then back up.
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await page.evaluate(() => window.scrollTo(0, 0));
    const images = await page.evaluate(inspectImages, 10_000);
    summary.images = images.length;
    report.imagesChecked += images.length;
    for (const image of images.filter((image) => !image.complete || image.naturalWidth === 0)) {
        report.imagesBroken += 1;
        report.fail("images", `${pageName}: image not loaded: ${image.source}`);
    }

    for (const raw of await page.evaluate(findRawMath)) {
        report.rawMath += 1;
        report.fail("maths", `${pageName}: raw TeX after MathJax: ${raw}`);
    }

    const animations = await checkAnimations(page, pageName, report);
    report.animationsFound += animations.found;
    report.animationsPlaying += animations.playing;

    const { links, ids } = await page.evaluate(collectLinksAndIds);
    summary.links = links.length;
    report.pageIds.set(new URL(url).pathname, new Set(ids));
    for (const link of links) report.links.push({ from: pageName, ...link });

    if (SCREENSHOT_PAGES.includes(pageName.replace(/\.html$/, ""))) {
        const file = path.join(options.screenshots, pageName.replace(/\.html$/, "").replaceAll("/", "__") + ".png");
        await page.screenshot({ path: file, fullPage: false });
        report.screenshots.push(file);
    }

    // Everything the page loaded is in by now (axe is injected inline, no request).
    await page.waitForLoadState("networkidle").catch(() => {});
    summary.requests = record.requestCount;
    for (const file of record.files) {
        summary.bytes += sizeOnTheWire(file).wire;
        summary.uncompressedBytes += sizeOnTheWire(file).raw;
    }
    if (summary.bytes > PAGE_SIZE_LIMIT_BYTES) {
        report.fail("page size", `${pageName}: ${formatBytes(summary.bytes)} loaded, over the ${formatBytes(PAGE_SIZE_LIMIT_BYTES)} limit`);
    }

    summary.axe = await runAxe(page);
    for (const violation of summary.axe) {
        report.axeByImpact[violation.impact] = (report.axeByImpact[violation.impact] ?? 0) + violation.nodes;
        const line = `${pageName}: axe ${violation.impact} "${violation.id}" on ${violation.nodes} element(s) (${violation.help}): ${violation.targets.join(" | ")}`;
        if (violation.impact === "serious" || violation.impact === "critical") report.fail("accessibility", line);
        else report.notes.push(line);
    }

    for (const error of record.consoleErrors) report.fail("console", `${pageName}: console error: ${error}`);
    for (const request of record.failedRequests) report.fail("console", `${pageName}: failed request: ${request}`);
    report.consoleErrors += record.consoleErrors.length;
    report.failedRequests += record.failedRequests.length;
    await page.close();
    return summary;
}

// ---------------------------------------------------------------- draw a digit

// Draw the strokes of DRAW_STROKES[digit] with the mouse (pointer events) on the drawing area.
async function drawStrokes(page, strokes) {
    const box = await page.locator("#draw-canvas").boundingBox();
    for (const stroke of strokes) {
        const [first, ...rest] = stroke.map(([x, y]) => [box.x + x * box.width, box.y + y * box.height]);
        await page.mouse.move(...first);
        await page.mouse.down();
        for (const [x, y] of rest) await page.mouse.move(x, y, { steps: 12 });
        await page.mouse.up();
    }
}

// Wait (up to 5 s) until the live region announces a digit; the checks after it say what it shows.
async function waitForAnnouncement(page) {
    await page.waitForFunction(() => /reads a \d/.test(document.querySelector("#draw-prediction").textContent), null, { timeout: 5_000 }).catch(() => {});
}

// The digit the page reads and its live region's text, once the prediction is shown.
async function shownPrediction(page) {
    return page.evaluate(() => {
        const probabilities = window.drawADigit.lastProbabilities();
        const digit = probabilities.indexOf(Math.max(...probabilities));
        return { digit, probability: probabilities[digit], announced: document.querySelector("#draw-prediction").textContent.trim() };
    });
}

async function checkDrawPage(context, baseUrl, options, report) {
    const fail = (message) => report.fail("draw a digit", message);
    const draw = { parity: null, largestDifference: null, strokes: {}, keyboard: null, bytes: null, axe: null };
    report.draw = draw;
    if (!existsSync(options.drawFixture)) {
        fail(`${options.drawFixture} not found: make browser-test writes it (python tools/draw_parity_fixture.py)`);
        return;
    }
    const fixture = JSON.parse(readFileSync(options.drawFixture, "utf8"));
    const { page, record } = await openPage(context, new URL(DRAW_PAGE, baseUrl).href, report);
    try {
        try {
            await page.waitForFunction(() => window.drawADigit !== undefined, null, { timeout: DRAW_LOAD_TIMEOUT_MS });
        } catch {
            fail(`the network did not load within ${DRAW_LOAD_TIMEOUT_MS / 1000} s (window.drawADigit is not set)`);
            return;
        }
        // 1. The page's own input path against NumPy, digit by digit.
        const predicted = await page.evaluate((images) => images.map((image) => window.drawADigit.predictImage(image)), fixture.images);
        let same = 0;
        let largest = 0;
        predicted.forEach((probabilities, index) => {
            const expected = fixture.probabilities[index];
            const digit = probabilities.indexOf(Math.max(...probabilities));
            if (digit === expected.indexOf(Math.max(...expected))) same += 1;
            else fail(`test digit ${index} (a ${fixture.labels[index]}): the page reads a ${digit}, NumPy a ${expected.indexOf(Math.max(...expected))}`);
            for (let k = 0; k < 10; k++) largest = Math.max(largest, Math.abs(probabilities[k] - expected[k]));
        });
        draw.parity = `${same}/${predicted.length}`;
        draw.largestDifference = largest;
        if (!(largest <= DRAW_PROBABILITY_TOLERANCE)) fail(`largest probability difference from NumPy ${largest.toExponential(2)}, over ${DRAW_PROBABILITY_TOLERANCE}`);

        // 2. Strokes drawn with the mouse: each digit of DRAW_STROKES must be read as itself,
        // and announced when the stroke ends.
        for (const [digit, strokes] of Object.entries(DRAW_STROKES)) {
            await page.locator("#draw-clear").click();
            await drawStrokes(page, strokes);
            await waitForAnnouncement(page);
            const shown = await shownPrediction(page);
            draw.strokes[digit] = `${shown.digit} (${(100 * shown.probability).toFixed(1)}%)`;
            if (shown.digit !== Number(digit)) fail(`strokes drawing a ${digit} are read as a ${shown.digit}`);
            if (!shown.announced.includes(`reads a ${digit}`)) fail(`after drawing a ${digit} the live region says "${shown.announced}"`);
            if (digit === "7") {
                const file = path.join(options.screenshots, "draw_a_digit.png");
                await page.locator("#draw-app").screenshot({ path: file });
                report.screenshots.push(file);
            }
        }

        // 3. The keyboard path: Tab to the list of test digits, pick one with the arrow keys,
        // Tab to Load, press Enter; the live region (aria-live) announces the digit.
        await page.locator("#draw-clear").click();
        await page.locator("#draw-digit-select").focus();
        for (let step = 0; step < 3; step++) await page.keyboard.press("ArrowDown");
        const chosen = await page.evaluate(() => document.querySelector("#draw-digit-select").selectedIndex);
        await page.keyboard.press("Tab");
        const focused = await page.evaluate(() => document.activeElement?.id);
        if (focused !== "draw-load") fail(`Tab from the list of test digits goes to "${focused}", not the Load button`);
        await page.keyboard.press("Enter");
        await waitForAnnouncement(page);
        const digits = await page.evaluate(() => fetch(new URL("../_static/draw/digits.json", location.href)).then((response) => response.json()));
        const expected = digits.labels[chosen];
        const shown = await shownPrediction(page);
        const live = await page.evaluate(() => document.querySelector("#draw-prediction").getAttribute("aria-live"));
        draw.keyboard = `test digit ${chosen + 1} (a ${expected}) announced as "${shown.announced}"`;
        if (live !== "polite" && live !== "assertive") fail(`#draw-prediction is not a live region (aria-live="${live}")`);
        if (!shown.announced.includes(`reads a ${expected}`)) fail(`the keyboard path loaded a ${expected}; the live region says "${shown.announced}"`);

        // 4. Size, axe on the page as a reader left it (feature maps and bars drawn), console.
        await page.waitForLoadState("networkidle").catch(() => {});
        draw.bytes = [...new Set(record.files)].reduce((total, file) => total + sizeOnTheWire(file).wire, 0);
        if (draw.bytes > DRAW_PAGE_SIZE_LIMIT_BYTES) fail(`${formatBytes(draw.bytes)} loaded, over its ${formatBytes(DRAW_PAGE_SIZE_LIMIT_BYTES)} limit`);
        const violations = await runAxe(page);
        draw.axe = violations.map((violation) => `${violation.id} (${violation.impact}: ${violation.nodes})`).join(", ") || "none";
        for (const violation of violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical")) {
            report.fail("accessibility", `${DRAW_PAGE} after drawing: axe ${violation.impact} "${violation.id}" (${violation.help}): ${violation.targets.join(" | ")}`);
        }
        for (const error of record.consoleErrors) report.fail("console", `${DRAW_PAGE} while drawing: console error: ${error}`);
        for (const request of record.failedRequests) report.fail("console", `${DRAW_PAGE} while drawing: failed request: ${request}`);
    } finally {
        await page.close();
    }
}

// ---------------------------------------------------------------- search

// The theme's search page runs Sphinx's searchtools.js over searchindex.js.
async function checkSearch(context, baseUrl, options, report) {
    const url = new URL(`search.html?q=${encodeURIComponent(SEARCH_WORD)}`, baseUrl).href;
    const { page, record } = await openPage(context, url, report);
    const result = { results: 0, foundChapter: false };
    try {
        // searchtools.js writes its closing status ("Search finished, found ...")
        // into .search-summary (Sphinx 7) once it has gone through the index.
        await page.waitForFunction(
            () => document.querySelectorAll("#search-results ul.search li").length > 0 ||
                /finished|did not match/i.test(document.querySelector("#search-results")?.textContent ?? ""),
            null,
            { timeout: 20_000 },
        );
        const hrefs = await page.$$eval("#search-results ul.search li a", (anchors) => anchors.map((anchor) => anchor.href));
        result.results = (await page.$$eval("#search-results ul.search li", (items) => items.length));
        result.foundChapter = hrefs.some((href) => new URL(href).pathname.endsWith("/" + SEARCH_MUST_FIND));
        if (result.results === 0) report.fail("search", `search for "${SEARCH_WORD}" found nothing`);
        else if (!result.foundChapter) report.fail("search", `search for "${SEARCH_WORD}" did not list ${SEARCH_MUST_FIND}`);
    } catch (error) {
        report.fail("search", `search page did not show results for "${SEARCH_WORD}" within 20 s (${error.message.split("\n")[0]})`);
    }
    const file = path.join(options.screenshots, "search__stride.png");
    await page.screenshot({ path: file });
    report.screenshots.push(file);
    for (const error of record.consoleErrors) report.fail("console", `search.html: console error: ${error}`);
    for (const request of record.failedRequests) report.fail("console", `search.html: failed request: ${request}`);
    report.consoleErrors += record.consoleErrors.length;
    report.failedRequests += record.failedRequests.length;
    await page.close();
    return result;
}

// ---------------------------------------------------------------- links

// Ids of a built HTML file that the browser did not visit (genindex.html, ...).
function idsInFile(file) {
    const ids = new Set();
    for (const match of readFileSync(file, "utf8").matchAll(/\s(?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) ids.add(match[1] ?? match[2]);
    return ids;
}

// Every link of every visited page that stays on the site: its file must exist, and
// its #fragment, if any, must be the id of an element on the target page.
function checkLinks(baseUrl, options, report) {
    const origin = new URL(baseUrl).origin;
    const checkedTargets = new Map(); // "path#fragment" -> problem or null
    const counts = { internal: 0, external: 0, broken: 0, distinctTargets: 0 };
    for (const link of report.links) {
        if (/^(mailto|javascript|tel|data):/i.test(link.href)) continue;
        const target = new URL(link.absolute);
        if (target.origin !== origin) {
            counts.external += 1;
            continue;
        }
        counts.internal += 1;
        const fragment = decodeURIComponent(target.hash.slice(1));
        const key = `${target.pathname}#${fragment}`;
        if (!checkedTargets.has(key)) {
            checkedTargets.set(key, targetProblem(target.pathname, fragment, options, report));
        }
        const problem = checkedTargets.get(key);
        if (problem) {
            counts.broken += 1;
            report.fail("links", `${link.from}: broken link "${link.href}": ${problem}`);
        }
    }
    counts.distinctTargets = checkedTargets.size;
    return counts;
}

function targetProblem(sitePath, fragment, options, report) {
    const file = fileForSitePath(options.htmlDir, sitePath);
    if (!isFile(file)) return `no file ${path.relative(options.htmlDir, file ?? sitePath) || sitePath}`;
    if (fragment === "") return null;
    if (!file.endsWith(".html")) return `#${fragment} on a file that is not HTML`;
    if (!report.pageIds.has(sitePath)) report.pageIds.set(sitePath, idsInFile(file));
    return report.pageIds.get(sitePath).has(fragment) ? null : `no element with id "${fragment}" in ${path.relative(options.htmlDir, file)}`;
}

// ---------------------------------------------------------------- main

// The checks, each passed or failed as a whole in the closing line; every problem
// found is listed under one of them.
const CHECKS = [
    ["pages", "every page of the table of contents is built"],
    ["console", "no console error, uncaught exception or failed request"],
    ["other hosts", "no request to another host (MathJax's CDN aside, answered locally)"],
    ["images", "every image loaded (natural width > 0)"],
    ["maths", "MathJax ran and no raw TeX ($...$, $$...$$, unrendered .math) is left"],
    ["animations", "every animation has its picture, slider and buttons, and plays"],
    ["search", `the search page finds "${SEARCH_WORD}" in ${SEARCH_MUST_FIND}`],
    ["links", "every link within the site reaches an existing file and #id"],
    ["accessibility", "no serious or critical axe-core violation"],
    ["page size", `no page over ${PAGE_SIZE_LIMIT_BYTES / 1_000_000} MB`],
    ["draw a digit", `${DRAW_PAGE}: the same digit as NumPy and probabilities within ${DRAW_PROBABILITY_TOLERANCE} on every test digit, strokes of a 1 and a 7 read right, the keyboard path announced, under ${DRAW_PAGE_SIZE_LIMIT_BYTES / 1_000_000} MB`],
];

// The page a request came from, for the report (a service worker's request has none).
function requestingPage(request) {
    try {
        return request.frame().url();
    } catch {
        return "no page";
    }
}

// The file of the mathjax package that a MathJax CDN address names.
function mathJaxFile(url) {
    return fileForSitePath(MATHJAX_PACKAGE_DIR, new URL(url).pathname.slice(new URL(MATHJAX_CDN_PREFIX).pathname.length - 1));
}

function formatBytes(bytes) {
    return bytes >= 1_000_000 ? `${(bytes / 1_000_000).toFixed(2)} MB` : `${(bytes / 1000).toFixed(1)} kB`;
}

async function main() {
    const options = parseArguments(process.argv.slice(2));
    const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
    if (!existsSync(path.join(options.htmlDir, "index.html"))) fail(`${options.htmlDir}/index.html not found: build the book first`);
    if (!existsSync(chromiumPath)) fail(`${chromiumPath} not found: install Debian's Chromium (apt-get install -y chromium)`);
    if (!existsSync(options.toc)) fail(`table of contents ${options.toc} not found (give it with --toc)`);
    mkdirSync(options.screenshots, { recursive: true });

    const tocPages = readTableOfContents(options.toc);
    const missingPages = tocPages.filter((page) => !isFile(path.join(options.htmlDir, page)));

    const report = {
        problems: [], // [category, message]
        fail(category, message) {
            if (!CHECKS.some(([known]) => known === category)) throw new Error(`unknown check ${category}`);
            this.problems.push([category, message]);
        },
        notes: [],
        links: [],
        pageIds: new Map(),
        screenshots: [],
        blockedExternalUrls: new Set(),
        mathJaxRequests: 0,
        imagesChecked: 0,
        imagesBroken: 0,
        rawMath: 0,
        animationsFound: 0,
        animationsPlaying: 0,
        consoleErrors: 0,
        failedRequests: 0,
        axeByImpact: {},
    };
    for (const page of missingPages) report.fail("pages", `${page}: in ${path.basename(options.toc)} but not built`);

    const server = await startServer(options.htmlDir);
    const baseUrl = `http://127.0.0.1:${server.address().port}/`;
    // The file behind a URL the browser fetched: on the site, or in the mathjax package.
    report.fileForUrl = (url) => {
        if (url.startsWith(baseUrl)) return fileForSitePath(options.htmlDir, new URL(url).pathname);
        if (url.startsWith(MATHJAX_CDN_PREFIX)) return mathJaxFile(url);
        return null;
    };
    // Chromium's own background traffic (updates, sync, Google look-ups) has nowhere to go
    // on an offline machine; these switches keep it from trying. (Playwright already runs
    // it without the sandbox, which needs user namespaces that a root CI shell lacks.)
    const browser = await chromium.launch({
        executablePath: chromiumPath,
        headless: true,
        args: ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });

    // The site is served locally; MathJax's CDN address is answered from node_modules
    // (see MATHJAX_CDN_PREFIX); any other request leaves the machine, so it is blocked
    // and reported: a page must not need a third-party host to show its content.
    await context.route("**/*", async (route) => {
        const url = route.request().url();
        if (url.startsWith(baseUrl)) return route.continue();
        if (url.startsWith(MATHJAX_CDN_PREFIX)) {
            const file = mathJaxFile(url);
            report.mathJaxRequests += 1;
            if (isFile(file)) return route.fulfill({ path: file, contentType: contentType(file) });
            return route.fulfill({ status: 404, body: "not in the mathjax package" });
        }
        if (!report.blockedExternalUrls.has(url)) {
            report.blockedExternalUrls.add(url);
            report.fail("other hosts", `request to another host blocked: ${url} (from ${requestingPage(route.request())})`);
        }
        return route.abort("blockedbyclient");
    });

    const summaries = [];
    try {
        for (const pageName of tocPages.filter((page) => !missingPages.includes(page))) {
            summaries.push(await checkPage(context, baseUrl, pageName, options, report));
        }
        report.search = await checkSearch(context, baseUrl, options, report);
        if (tocPages.includes(DRAW_PAGE)) await checkDrawPage(context, baseUrl, options, report);
        else report.fail("draw a digit", `${DRAW_PAGE} is not in the table of contents`);
    } finally {
        await browser.close();
        server.close();
    }
    const linkCounts = checkLinks(baseUrl, options, report);
    if (report.animationsFound === 0) report.fail("animations", "no animation (div.animation) found on any page");

    printReport(options, chromiumPath, browser.version(), tocPages, summaries, linkCounts, report);
    process.exit(report.problems.length === 0 ? 0 : 1);
}

function printReport(options, chromiumPath, version, tocPages, summaries, linkCounts, report) {
    const out = (line = "") => console.log(line);
    out(`Browser test of ${options.htmlDir} with ${chromiumPath} (Chromium ${version})`);
    out();
    out("page                                      size (uncompressed)  requests  images  links  axe violations (impact: elements)");
    for (const summary of summaries) {
        const axe = summary.axe.map((violation) => `${violation.id} (${violation.impact}: ${violation.nodes})`).join(", ") || "none";
        const size = `${formatBytes(summary.bytes)} (${formatBytes(summary.uncompressedBytes)})`;
        out(`${summary.page.padEnd(40)} ${size.padStart(21)} ${String(summary.requests).padStart(9)} ${String(summary.images).padStart(7)} ${String(summary.links).padStart(6)}  ${axe}`);
    }
    if (report.notes.length) {
        out();
        out("Moderate and minor accessibility findings (reported, not failures):");
        for (const note of report.notes) out(`  ${note}`);
    }
    if (report.problems.length) {
        out();
        out(`PROBLEMS (${report.problems.length}):`);
        for (const [category, message] of report.problems) out(`  - [${category}] ${message}`);
    }
    const largest = summaries.reduce((best, summary) => (summary.bytes > (best?.bytes ?? -1) ? summary : best), null);
    const impacts = ["critical", "serious", "moderate", "minor"].map((impact) => `${impact} ${report.axeByImpact[impact] ?? 0}`).join(", ");
    out();
    out("Summary");
    out(`  pages visited:          ${summaries.length} of ${tocPages.length} in the table of contents, and search.html`);
    out(`  console errors:         ${report.consoleErrors} (failed requests: ${report.failedRequests})`);
    out(`  requests to other hosts blocked: ${report.blockedExternalUrls.size} (MathJax: ${report.mathJaxRequests} requests answered from node_modules/mathjax)`);
    out(`  images checked:         ${report.imagesChecked}, broken: ${report.imagesBroken}`);
    out(`  raw TeX after MathJax:  ${report.rawMath}`);
    out(`  animations:             ${report.animationsFound} found, ${report.animationsPlaying} playing`);
    out(`  search "${SEARCH_WORD}":        ${report.search ? `${report.search.results} results, ${SEARCH_MUST_FIND} ${report.search.foundChapter ? "among them" : "NOT among them"}` : "not run"}`);
    out(`  links checked:          ${linkCounts.internal} internal (${linkCounts.distinctTargets} distinct targets), broken: ${linkCounts.broken}; ${linkCounts.external} external links not followed (offline)`);
    out(`  axe violations (elements by impact): ${impacts}`);
    const draw = report.draw ?? {};
    out(`  draw a digit:           same digit as NumPy ${draw.parity ?? "not run"}, largest probability difference ${draw.largestDifference?.toExponential(2) ?? "-"}; strokes ${Object.entries(draw.strokes ?? {}).map(([digit, read]) => `${digit} -> ${read}`).join(", ") || "not run"}`);
    out(`                          keyboard: ${draw.keyboard ?? "not run"}; ${draw.bytes === null || draw.bytes === undefined ? "size not measured" : `${formatBytes(draw.bytes)} loaded (limit ${formatBytes(DRAW_PAGE_SIZE_LIMIT_BYTES)})`}; axe after drawing: ${draw.axe ?? "not run"}`);
    out(`  largest page:           ${largest ? `${largest.page}, ${formatBytes(largest.bytes)} (${formatBytes(largest.uncompressedBytes)} uncompressed)` : "none"}; limit ${formatBytes(PAGE_SIZE_LIMIT_BYTES)} for the HTML and every file it loaded, text formats gzip-compressed`);
    out(`  screenshots:            ${report.screenshots.join(", ")}`);
    out();
    let failedChecks = 0;
    for (const [category, description] of CHECKS) {
        const count = report.problems.filter(([problemCategory]) => problemCategory === category).length;
        if (count) failedChecks += 1;
        out(`  ${count ? "FAIL" : "ok  "}  ${category.padEnd(14)} ${description}${count ? ` (${count} problems)` : ""}`);
    }
    out();
    out(`browser-test: ${CHECKS.length - failedChecks} passed, ${failedChecks} failed`);
}

main().catch((error) => {
    console.error(error);
    process.exit(2);
});
