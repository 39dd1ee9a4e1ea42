// Draw a digit: chapter 10's CNN, trained in Keras and saved by tools/export_web_model.py in
// the format of cnn_course.web_model (its weights rounded to float16), run in plain JavaScript: the same operations as
// cnn_course.ops (channels-last, a kernel of shape (kh, kw, C_in, C_out)), one function each.
//
// The file has three parts: the network (reading the files and the forward pass), turning a
// drawing into MNIST's 28 x 28 input, and the page. Only the last touches the page; the first
// two are plain functions of arrays. (This file ends in .mjs: Jupyter Book adds every .js file
// under _static/ to every page, and this one belongs on one page only.)

// ------------------------------------------------------------------ the network

// The bytes of one number of model.bin, by the manifest's dtype.
const BYTES = { float32: 4, float16: 2 };

// A float16 (1 sign bit, 5 exponent bits, 10 fraction bits) as a number: exact, since every
// float16 is a float32 too.
function float16(bits) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f, fraction = bits & 0x3ff;
    if (exponent === 0) return sign * fraction * 2 ** -24; // subnormal
    if (exponent === 31) return fraction ? NaN : sign * Infinity;
    return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

// model.bin's numbers as a Float32Array (little-endian, as the format says).
function numbersOf(buffer, dtype) {
    if (!(dtype in BYTES) || buffer.byteLength % BYTES[dtype] !== 0) throw new Error(`model.bin is not a whole number of ${dtype} values`);
    const view = new DataView(buffer);
    const numbers = new Float32Array(buffer.byteLength / BYTES[dtype]);
    for (let index = 0; index < numbers.length; index++) {
        numbers[index] = dtype === "float16" ? float16(view.getUint16(2 * index, true)) : view.getFloat32(4 * index, true);
    }
    return numbers;
}

// A tensor is { shape, data }: shape [H, W, C] (an image) or [D], data a Float64Array in C order
// (the last axis fastest), as NumPy keeps an array.
function tensor(shape) {
    return { shape, data: new Float64Array(shape.reduce((a, b) => a * b, 1)) };
}

// The manifest and model.bin's numbers as layers with their weights: each weight a
// { shape, data } view into the numbers, at the offset the manifest gives.
export function readModel(manifest, buffer) {
    if (manifest.format !== "cnn-course-model" || manifest.version !== 1) {
        throw new Error(`not a cnn-course-model manifest of version 1: ${manifest.format} ${manifest.version}`);
    }
    const numbers = numbersOf(buffer, manifest.dtype);
    const layers = manifest.layers.map((entry) => {
        const weights = {};
        for (const weight of entry.weights) {
            const size = weight.shape.reduce((a, b) => a * b, 1);
            if (weight.offset + size > numbers.length) throw new Error(`${entry.name}/${weight.name} runs past the end of model.bin`);
            weights[weight.name] = { shape: weight.shape, data: numbers.subarray(weight.offset, weight.offset + size) };
        }
        return { ...entry, weights };
    });
    return { inputShape: manifest.input_shape, layers };
}

// Padding before the first row (column) and the output size along one axis, as
// cnn_course.convolution.window_plan: "valid" none, "same" TensorFlow's rule (the extra zero,
// if any, at the bottom or right), or a number of zeros on each side.
function plan(size, kernel, stride, padding, dilation = 1) {
    const span = dilation * (kernel - 1) + 1;
    if (padding === "valid") return { before: 0, out: Math.floor((size - span) / stride) + 1 };
    if (padding === "same") {
        const out = Math.ceil(size / stride);
        const total = Math.max((out - 1) * stride + span - size, 0);
        return { before: Math.floor(total / 2), out };
    }
    return { before: padding, out: Math.floor((size + 2 * padding - span) / stride) + 1 };
}

function pair(value) {
    return Array.isArray(value) ? value : [value, value];
}

// y[i, j, f] = bias[f] + sum over (u, v, c) of x[i s + u d - p, j s + v d - p, c] kernel[u, v, c, f]
export function conv2d(x, kernel, bias, strideSetting = 1, padding = "valid", dilationSetting = 1) {
    const [height, width, channels] = x.shape;
    const [kh, kw, , filters] = kernel.shape;
    const stride = pair(strideSetting), dilation = pair(dilationSetting), pads = pair(padding);
    const rows = plan(height, kh, stride[0], pads[0], dilation[0]);
    const columns = plan(width, kw, stride[1], pads[1], dilation[1]);
    const y = tensor([rows.out, columns.out, filters]);
    const k = kernel.data;
    for (let i = 0; i < rows.out; i++) {
        for (let j = 0; j < columns.out; j++) {
            const out = (i * columns.out + j) * filters;
            if (bias) for (let f = 0; f < filters; f++) y.data[out + f] = bias.data[f];
            for (let u = 0; u < kh; u++) {
                const row = i * stride[0] + u * dilation[0] - rows.before;
                if (row < 0 || row >= height) continue; // a zero of the padding
                for (let v = 0; v < kw; v++) {
                    const column = j * stride[1] + v * dilation[1] - columns.before;
                    if (column < 0 || column >= width) continue;
                    const input = (row * width + column) * channels;
                    const taps = (u * kw + v) * channels * filters;
                    for (let c = 0; c < channels; c++) {
                        const value = x.data[input + c];
                        if (value === 0) continue; // most pixels of a digit are 0
                        const weights = taps + c * filters;
                        for (let f = 0; f < filters; f++) y.data[out + f] += value * k[weights + f];
                    }
                }
            }
        }
    }
    return y;
}

// Max or average over each window of every channel; padded cells are left out.
export function pool2d(x, poolSetting, strideSetting, padding, kind) {
    const [height, width, channels] = x.shape;
    const size = pair(poolSetting), stride = pair(strideSetting ?? poolSetting);
    const rows = plan(height, size[0], stride[0], padding), columns = plan(width, size[1], stride[1], padding);
    const y = tensor([rows.out, columns.out, channels]);
    for (let i = 0; i < rows.out; i++) {
        for (let j = 0; j < columns.out; j++) {
            for (let c = 0; c < channels; c++) {
                let best = -Infinity, sum = 0, count = 0;
                for (let u = 0; u < size[0]; u++) {
                    const row = i * stride[0] + u - rows.before;
                    if (row < 0 || row >= height) continue;
                    for (let v = 0; v < size[1]; v++) {
                        const column = j * stride[1] + v - columns.before;
                        if (column < 0 || column >= width) continue;
                        const value = x.data[(row * width + column) * channels + c];
                        best = Math.max(best, value);
                        sum += value;
                        count += 1;
                    }
                }
                y.data[(i * columns.out + j) * channels + c] = kind === "max" ? best : sum / count;
            }
        }
    }
    return y;
}

export function relu(x) {
    return { shape: x.shape, data: x.data.map((value) => (value > 0 ? value : 0)) };
}

// y = x @ weights + bias, weights of shape (D_in, D_out).
export function dense(x, weights, bias) {
    const [inputs, outputs] = weights.shape;
    const y = tensor([outputs]);
    if (bias) y.data.set(bias.data);
    for (let i = 0; i < inputs; i++) {
        const value = x.data[i];
        if (value === 0) continue;
        for (let o = 0; o < outputs; o++) y.data[o] += value * weights.data[i * outputs + o];
    }
    return y;
}

// exp(z - max z) / sum: the stable softmax.
export function softmax(x) {
    const top = Math.max(...x.data);
    const exps = x.data.map((value) => Math.exp(value - top));
    const total = exps.reduce((a, b) => a + b, 0);
    return { shape: x.shape, data: exps.map((value) => value / total) };
}

// One layer at inference, by its type (Dropout does nothing at inference).
function applyLayer(layer, x) {
    const { config, weights } = layer;
    switch (layer.type) {
        case "Conv2D":
            return conv2d(x, weights.kernel, weights.bias, config.stride, config.padding, config.dilation);
        case "MaxPool2D":
            return pool2d(x, config.pool_size, config.stride, config.padding, "max");
        case "AvgPool2D":
            return pool2d(x, config.pool_size, config.stride, config.padding, "average");
        case "ReLU":
            return relu(x);
        case "Flatten":
            return { shape: [x.data.length], data: x.data }; // C order: already flat
        case "Dropout":
            return x;
        case "Dense":
            return dense(x, weights.weights, weights.bias);
        case "Softmax":
            return softmax(x);
        default:
            throw new Error(`layer ${layer.name}: the page cannot run a ${layer.type}`);
    }
}

// Every layer's output for one image (784 values in [0, 1], row by row).
export function forward(model, pixels) {
    let x = { shape: model.inputShape, data: Float64Array.from(pixels) };
    const outputs = [];
    for (const layer of model.layers) {
        x = applyLayer(layer, x);
        outputs.push(x);
    }
    return outputs;
}

// ------------------------------------------------------------------ a drawing as MNIST's input

// MNIST's digits were made like this: the ink's bounding box scaled to fit 20 x 20 keeping its
// aspect ratio (averaging the pixels each new pixel covers), then placed in 28 x 28 so that its
// centre of mass falls on the centre. `ink` holds width x height values in [0, 1].
// Returns { pixels: Float64Array(784), empty, transform } where transform maps an input pixel
// back to the drawing: drawing = (input - offset) / scale + corner.
export function mnistInput(ink, width, height, threshold = 0.05) {
    let top = height, bottom = -1, left = width, right = -1;
    for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
            if (ink[y * width + x] > threshold) {
                top = Math.min(top, y), bottom = Math.max(bottom, y);
                left = Math.min(left, x), right = Math.max(right, x);
            }
        }
    }
    const pixels = new Float64Array(28 * 28);
    if (bottom < 0) return { pixels, empty: true, transform: null };
    const boxHeight = bottom - top + 1, boxWidth = right - left + 1;
    const scale = 20 / Math.max(boxHeight, boxWidth);
    const newHeight = Math.max(1, Math.round(boxHeight * scale)), newWidth = Math.max(1, Math.round(boxWidth * scale));
    // Each new pixel is the average of the drawing's pixels it covers (at least one).
    const small = new Float64Array(newHeight * newWidth);
    const span = (index, limit) => {
        const first = Math.min(Math.floor(index / scale), limit - 1);
        return [first, Math.max(first + 1, Math.min(Math.floor((index + 1) / scale), limit))];
    };
    for (let i = 0; i < newHeight; i++) {
        const [y0, y1] = span(i, boxHeight);
        for (let j = 0; j < newWidth; j++) {
            const [x0, x1] = span(j, boxWidth);
            let sum = 0;
            for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += ink[(top + y) * width + left + x];
            small[i * newWidth + j] = Math.min(1, sum / ((y1 - y0) * (x1 - x0)));
        }
    }
    // Centre of mass (pixel centres at index + 0.5), moved to (14, 14).
    let mass = 0, rowMoment = 0, columnMoment = 0;
    for (let i = 0; i < newHeight; i++) {
        for (let j = 0; j < newWidth; j++) {
            const value = small[i * newWidth + j];
            mass += value, rowMoment += value * (i + 0.5), columnMoment += value * (j + 0.5);
        }
    }
    const rowOffset = Math.round(14 - rowMoment / mass), columnOffset = Math.round(14 - columnMoment / mass);
    for (let i = 0; i < newHeight; i++) {
        for (let j = 0; j < newWidth; j++) {
            const row = i + rowOffset, column = j + columnOffset;
            if (row >= 0 && row < 28 && column >= 0 && column < 28) pixels[row * 28 + column] = small[i * newWidth + j];
        }
    }
    return { pixels, empty: false, transform: { scale, corner: [top, left], offset: [rowOffset, columnOffset] } };
}

// ------------------------------------------------------------------ the page

const DRAWING_SIZE = 280; // the drawing area's pixels (and CSS pixels)
const STROKE_WIDTH = 22;
const INPUT_SCALE = 6; // the 28 x 28 input is shown 168 x 168

function drawTensor(canvas, data, height, width, channels, channel, top) {
    const context = canvas.getContext("2d");
    const image = context.createImageData(width, height);
    for (let p = 0; p < height * width; p++) {
        const level = top > 0 ? Math.round((255 * Math.max(0, data[p * channels + channel])) / top) : 0;
        image.data.set([level, level, level, 255], 4 * p);
    }
    context.putImageData(image, 0, 0);
}

function percent(value) {
    return `${(100 * value).toFixed(1)}%`;
}

function startPage(root, model, digits) {
    const $ = (selector) => root.querySelector(selector);
    const drawing = $("#draw-canvas"), inputCanvas = $("#draw-input");
    const drawingContext = drawing.getContext("2d", { willReadFrequently: true });
    const drawingOverlay = $("#draw-canvas-overlay").getContext("2d");
    const inputOverlay = $("#draw-input-overlay").getContext("2d");
    const prediction = $("#draw-prediction"), fieldText = $("#draw-field");

    // The layers whose maps are shown: every Conv2D (after its ReLU, when one follows) and pooling layer.
    const shown = [];
    model.layers.forEach((layer, index) => {
        if (!["Conv2D", "MaxPool2D", "AvgPool2D"].includes(layer.type)) return;
        const afterRelu = layer.type === "Conv2D" && model.layers[index + 1]?.type === "ReLU";
        shown.push({ layer, outputIndex: afterRelu ? index + 1 : index, label: `${layer.name}${afterRelu ? " after ReLU" : ""}` });
    });

    // Bars for the ten probabilities.
    const bars = [];
    for (let digit = 0; digit < 10; digit++) {
        const row = document.createElement("div");
        row.className = "draw-bar";
        row.innerHTML = `<span class="draw-bar-digit">${digit}</span><span class="draw-bar-track"><span class="draw-bar-fill"></span></span><span class="draw-bar-value">0.0%</span>`;
        $("#draw-bars").append(row);
        bars.push(row);
    }

    // One group of small canvases per shown layer, one tab stop each (arrow keys move a cell).
    for (const entry of shown) {
        const [height, width, channels] = entry.layer.output_shape;
        const group = document.createElement("div");
        group.className = "draw-layer";
        group.tabIndex = 0;
        group.setAttribute("role", "group");
        const description = `${entry.label}: ${channels} maps of ${height} x ${width}`;
        group.setAttribute("aria-label", `${description}. Arrow keys move a cell, Page Up and Page Down change the map; the text below the input says what the cell sees.`);
        group.innerHTML = `<p class="draw-layer-title">${description}</p>`;
        const grid = document.createElement("div");
        grid.className = "draw-layer-grid";
        const cssSize = Math.max(36, Math.min(60, width * 2));
        entry.canvases = [];
        for (let channel = 0; channel < channels; channel++) {
            const canvas = document.createElement("canvas");
            canvas.width = width, canvas.height = height;
            canvas.style.width = canvas.style.height = `${cssSize}px`;
            canvas.setAttribute("aria-hidden", "true");
            canvas.addEventListener("mousemove", (event) => {
                const i = Math.min(height - 1, Math.floor((event.offsetY / canvas.clientHeight) * height));
                const j = Math.min(width - 1, Math.floor((event.offsetX / canvas.clientWidth) * width));
                showField(entry, channel, i, j);
            });
            canvas.addEventListener("mouseleave", clearField);
            grid.append(canvas);
            entry.canvases.push(canvas);
        }
        group.append(grid);
        entry.cursor = { channel: 0, i: 0, j: 0 };
        group.addEventListener("focus", () => showField(entry, entry.cursor.channel, entry.cursor.i, entry.cursor.j));
        group.addEventListener("blur", clearField);
        group.addEventListener("keydown", (event) => {
            const cursor = entry.cursor;
            const moves = { ArrowUp: [0, -1, 0], ArrowDown: [0, 1, 0], ArrowLeft: [0, 0, -1], ArrowRight: [0, 0, 1], PageUp: [-1, 0, 0], PageDown: [1, 0, 0] };
            const move = moves[event.key];
            if (!move) return;
            event.preventDefault();
            cursor.channel = Math.min(channels - 1, Math.max(0, cursor.channel + move[0]));
            cursor.i = Math.min(height - 1, Math.max(0, cursor.i + move[1]));
            cursor.j = Math.min(width - 1, Math.max(0, cursor.j + move[2]));
            showField(entry, cursor.channel, cursor.i, cursor.j);
        });
        $("#draw-maps").append(group);
    }

    let current = { pixels: new Float64Array(784), empty: true, transform: null };
    let probabilities = new Array(10).fill(0);
    let highlighted = null;

    // The receptive field of cell (i, j) of a shown layer (describe()'s numbers), outlined on the
    // input and, through the drawing's transform, on the drawing.
    function showField(entry, channel, i, j) {
        const { receptive_field: field, jump, start } = entry.layer;
        const rows = [start[0] + i * jump[0], start[0] + i * jump[0] + field[0] - 1];
        const columns = [start[1] + j * jump[1], start[1] + j * jump[1] + field[1] - 1];
        const clip = (range) => [Math.max(0, range[0]), Math.min(27, range[1])];
        const [r0, r1] = clip(rows), [c0, c1] = clip(columns);
        inputOverlay.clearRect(0, 0, 28 * INPUT_SCALE, 28 * INPUT_SCALE);
        inputOverlay.strokeStyle = "#ff3b30";
        inputOverlay.lineWidth = 2;
        inputOverlay.strokeRect(c0 * INPUT_SCALE + 1, r0 * INPUT_SCALE + 1, (c1 - c0 + 1) * INPUT_SCALE - 2, (r1 - r0 + 1) * INPUT_SCALE - 2);
        drawingOverlay.clearRect(0, 0, DRAWING_SIZE, DRAWING_SIZE);
        if (current.transform) {
            const { scale, corner, offset } = current.transform;
            const y = (r0 - offset[0]) / scale + corner[0], x = (c0 - offset[1]) / scale + corner[1];
            drawingOverlay.strokeStyle = "#ff3b30";
            drawingOverlay.lineWidth = 3;
            drawingOverlay.strokeRect(x, y, (c1 - c0 + 1) / scale, (r1 - r0 + 1) / scale);
        }
        if (highlighted) highlighted.classList.remove("draw-map-current");
        highlighted = entry.canvases[channel];
        highlighted.classList.add("draw-map-current");
        fieldText.textContent = `${entry.label}, map ${channel + 1}, cell (${i}, ${j}): sees input rows ${r0} to ${r1}, ` +
            `columns ${c0} to ${c1} (${r1 - r0 + 1} x ${c1 - c0 + 1} pixels${r1 - r0 < field[0] - 1 || c1 - c0 < field[1] - 1 ? ", cut by the border" : ""}).`;
    }

    function clearField() {
        inputOverlay.clearRect(0, 0, 28 * INPUT_SCALE, 28 * INPUT_SCALE);
        drawingOverlay.clearRect(0, 0, DRAWING_SIZE, DRAWING_SIZE);
        if (highlighted) highlighted.classList.remove("draw-map-current");
        highlighted = null;
    }

    // Run the network on the current input and show everything; `announce` also updates the live region.
    function update(announce) {
        drawTensor(inputCanvas, current.pixels, 28, 28, 1, 0, 1);
        const outputs = forward(model, current.pixels);
        probabilities = Array.from(outputs[outputs.length - 1].data);
        const best = probabilities.indexOf(Math.max(...probabilities));
        bars.forEach((row, digit) => {
            const value = current.empty ? 0 : probabilities[digit];
            row.querySelector(".draw-bar-fill").style.width = percent(value);
            row.querySelector(".draw-bar-value").textContent = percent(value);
            row.classList.toggle("draw-bar-best", !current.empty && digit === best);
        });
        for (const entry of shown) {
            const output = outputs[entry.outputIndex];
            const [height, width, channels] = output.shape;
            const top = output.data.reduce((a, b) => Math.max(a, b), 0);
            entry.canvases.forEach((canvas, channel) => drawTensor(canvas, output.data, height, width, channels, channel, top));
        }
        if (announce) {
            prediction.textContent = current.empty ? "Draw a digit to see what the network reads."
                : `The network reads a ${best} (${percent(probabilities[best])}).`;
        }
    }

    function readDrawing() {
        const rgba = drawingContext.getImageData(0, 0, DRAWING_SIZE, DRAWING_SIZE).data;
        const ink = new Float64Array(DRAWING_SIZE * DRAWING_SIZE);
        for (let p = 0; p < ink.length; p++) ink[p] = rgba[4 * p + 3] / 255; // the ink is the alpha channel
        return mnistInput(ink, DRAWING_SIZE, DRAWING_SIZE);
    }

    // Pointer events: mouse, touch and pen alike.
    let last = null, pending = false;
    const point = (event) => {
        const box = drawing.getBoundingClientRect();
        return [((event.clientX - box.left) * DRAWING_SIZE) / box.width, ((event.clientY - box.top) * DRAWING_SIZE) / box.height];
    };
    const stroke = (from, to) => {
        drawingContext.strokeStyle = "#ffffff";
        drawingContext.lineWidth = STROKE_WIDTH;
        drawingContext.lineCap = drawingContext.lineJoin = "round";
        drawingContext.beginPath();
        drawingContext.moveTo(...from);
        drawingContext.lineTo(...to);
        drawingContext.stroke();
    };
    drawing.addEventListener("pointerdown", (event) => {
        event.preventDefault();
        drawing.setPointerCapture(event.pointerId);
        last = point(event);
        stroke(last, last);
        clearField();
    });
    drawing.addEventListener("pointermove", (event) => {
        if (last === null) return;
        const next = point(event);
        stroke(last, next);
        last = next;
        if (!pending) {
            pending = true;
            requestAnimationFrame(() => {
                pending = false;
                current = readDrawing();
                update(false);
            });
        }
    });
    const finish = () => {
        if (last === null) return;
        last = null;
        current = readDrawing();
        update(true);
    };
    drawing.addEventListener("pointerup", finish);
    drawing.addEventListener("pointercancel", finish);

    function clear() {
        drawingContext.clearRect(0, 0, DRAWING_SIZE, DRAWING_SIZE);
        current = { pixels: new Float64Array(784), empty: true, transform: null };
        clearField();
        update(true);
    }

    // A test digit goes in as it is (MNIST made it already) and is painted 10 times larger.
    function loadDigit(index) {
        const pixels = Float64Array.from(digits.pixels[index]);
        drawingContext.clearRect(0, 0, DRAWING_SIZE, DRAWING_SIZE);
        const cell = DRAWING_SIZE / 28;
        for (let p = 0; p < 784; p++) {
            if (pixels[p] === 0) continue;
            drawingContext.fillStyle = `rgba(255, 255, 255, ${pixels[p]})`;
            drawingContext.fillRect((p % 28) * cell, Math.floor(p / 28) * cell, cell, cell);
        }
        current = { pixels, empty: false, transform: { scale: 1 / cell, corner: [0, 0], offset: [0, 0] } };
        clearField();
        update(true);
    }

    const select = $("#draw-digit-select");
    digits.labels.forEach((label, index) => select.add(new Option(`Test digit ${index + 1}: a ${label}`, String(index))));
    $("#draw-load").addEventListener("click", () => loadDigit(Number(select.value)));
    $("#draw-clear").addEventListener("click", clear);
    clear();

    return {
        predictImage: (pixels) => Array.from(forward(model, pixels).at(-1).data),
        preprocess: () => Array.from(readDrawing().pixels),
        loadDigit,
        clear,
        lastProbabilities: () => probabilities.slice(),
        featureMaps: () => Object.fromEntries(shown.map((entry) => [entry.label, { shape: model.layers[entry.outputIndex].output_shape }])),
    };
}

async function load() {
    const root = document.querySelector("#draw-app");
    const status = root.querySelector("#draw-status");
    try {
        const fetchOk = async (name) => {
            const response = await fetch(new URL(name, import.meta.url));
            if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
            return response;
        };
        const [manifest, buffer, digits] = await Promise.all([
            fetchOk("model.json").then((response) => response.json()),
            fetchOk("model.bin").then((response) => response.arrayBuffer()),
            fetchOk("digits.json").then((response) => response.json()),
        ]);
        const api = startPage(root, readModel(manifest, buffer), digits);
        status.hidden = true;
        root.classList.add("draw-ready");
        window.drawADigit = api;
        return api;
    } catch (error) {
        status.textContent = "The network could not be loaded: open the book through a web server, for example " +
            "python -m http.server -d _build/html (browsers do not let a page opened from a file load files). " +
            `(${error.message})`;
        throw error;
    }
}

if (typeof document !== "undefined") {
    window.drawADigitReady = new Promise((resolve, reject) => {
        const start = () => load().then(resolve, reject);
        if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
        else start();
    });
    window.drawADigitReady.catch(() => {}); // the message is on the page
}
