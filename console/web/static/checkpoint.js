// 卡口扫码: each scan goes to the scanner API (POST /api/checkin/v1/scans) with its own client_event_id;
// without a network it waits in this browser (localStorage) and goes up through /scans/batch when the
// network returns. The server judges every scan; this script only shows its answer. No green without one.
// A health certificate takes the same route; checkpoint_certificates.js shows it and registers its holder.
(function () {
  "use strict";
  var form = document.getElementById("scan-form");
  if (!form) { return; }
  var station = JSON.parse(form.getAttribute("data-station"));
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var qr = document.getElementById("scan-qr");
  var temperature = document.getElementById("scan-temperature");
  var kind = document.getElementById("scan-kind");
  var verdict = document.getElementById("verdict");
  var QUEUE_KEY = "fg-station-queue:" + station.checkpoint;
  var WORDS = { allow: "放行", recheck: "复核", isolate: "隔离", deny: "拒绝", queued: "待上传" };
  var FIELD_NAMES = { temperature: "体温", qr: "二维码", symptoms: "症状", kind: "扫码类型" };
  var TIMEOUT_MS = 8000;
  var certificates = null;  // the certificate part (checkpoint_certificates.js), wired once the helpers exist
  var seq = 0;
  var uploading = false;

  // ---- small helpers ---------------------------------------------------------------------------
  function $(id) { return document.getElementById(id); }
  function stored(key, fallback) {
    try { var value = window.localStorage.getItem(key); return value === null ? fallback : value; } catch (e) { return fallback; }
  }
  function store(key, value) { try { window.localStorage.setItem(key, value); } catch (e) { /* private mode: keep going */ } }
  function uuid() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    // randomUUID needs a secure context; an intranet served over http still has getRandomValues.
    var b = window.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function deviceId() {
    var id = stored("fg-station-device", "");
    if (!id) { id = "station-" + station.checkpoint + "-" + uuid().slice(0, 8); store("fg-station-device", id); }
    return id;
  }
  function post(url, body) {
    var abort = new AbortController();
    var timer = setTimeout(function () { abort.abort(); }, TIMEOUT_MS);
    return fetch(url, {
      method: "POST", credentials: "same-origin", signal: abort.signal,
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).finally(function () { clearTimeout(timer); });
  }
  // Answers that mean "not judged yet, keep it": no network, server trouble, the session gone or stale.
  function keepForLater(status, body) {
    var code = body && body.error && body.error.code;
    return status >= 500 || status === 401 || status === 429 || code === "csrf_failed";
  }

  // ---- the offline queue -----------------------------------------------------------------------
  function queue() {
    try { return JSON.parse(stored(QUEUE_KEY, "[]")) || []; } catch (e) { return []; }
  }
  function saveQueue(items) { store(QUEUE_KEY, JSON.stringify(items)); showQueue(); }
  function enqueue(scan) {
    var items = queue();
    if (!items.some(function (item) { return item.client_event_id === scan.client_event_id; })) { items.push(scan); }
    saveQueue(items);
  }
  function showQueue() {
    var n = queue().length;
    $("queue-count").textContent = n;
    $("queue-state").className = "badge " + (n ? "text-bg-warning" : "text-bg-secondary");
    $("queue-upload").hidden = n === 0;
    $("queue-upload").disabled = !navigator.onLine;
  }
  function showNetwork() {
    var on = navigator.onLine;
    $("net-state").textContent = on ? "在线" : "离线";
    $("net-state").className = "badge " + (on ? "text-bg-success" : "text-bg-danger");
    showQueue();
  }
  function upload() {
    var items = queue();
    if (uploading || !items.length || !navigator.onLine) { return Promise.resolve(); }
    uploading = true;
    var chunk = items.slice(0, 500);
    return post(station.batch, { scans: chunk }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (answer) {
      if (answer.status === 422 && setAsideInvalid(chunk, answer.body)) { return; }
      if (answer.status !== 200) {  // kept in the queue; the next try sends the same ids
        if (answer.status !== 401 && answer.status < 500) { uploadRefused(answer.body); }
        return;
      }
      var acknowledged = {};
      answer.body.results.forEach(function (result) { acknowledged[result.client_event_id] = true; });
      saveQueue(queue().filter(function (scan) { return !acknowledged[scan.client_event_id]; }));
      showUploadReport(answer.body.results);
      refreshExpected();
    }).catch(function () { /* still offline: the queue stays as it is */ }).finally(function () {
      uploading = false;
      if (queue().length && navigator.onLine && !uploadPending) { later(); }
    });
  }
  // The server checks a batch as a whole: one scan it can never accept (a temperature typed wrong while
  // offline) would hold back every scan behind it. Those it names (fields "scans.<n>.…") leave the
  // queue and are listed in red, to be scanned again; the rest go up at the next try.
  var FIELD_WORDS = { temperature: "体温", qr: "二维码", symptoms: "症状", scanned_at: "扫码时间", kind: "扫码类型" };
  function setAsideInvalid(chunk, body) {
    var fields = body && body.error && body.error.fields;
    if (!fields) { return false; }
    var why = {};
    Object.keys(fields).forEach(function (key) {
      var match = /^scans\.(\d+)\.(\w+)/.exec(key);
      if (!match) { return; }
      var said = (FIELD_WORDS[match[2]] || match[2]) + fields[key];
      why[match[1]] = why[match[1]] ? why[match[1]] + "；" + said : said;
    });
    var refused = chunk.filter(function (scan, index) { return why[index] !== undefined; });
    if (!refused.length) { return false; }
    var gone = {};
    refused.forEach(function (scan) { gone[scan.client_event_id] = true; });
    saveQueue(queue().filter(function (scan) { return !gone[scan.client_event_id]; }));
    showUploadReport(chunk.map(function (scan, index) {
      return why[index] === undefined ? null : { client_event_id: scan.client_event_id, verdict: "deny",
        reason: "invalid", message: "未能上传，请核实后重新扫码：" + why[index] };
    }).filter(Boolean));
    $("upload-summary").textContent = refused.length + " 条扫码数据有误、未能上传，请重新扫码；其余稍后自动上传";
    return true;
  }
  function uploadRefused(body) {
    var error = (body && body.error) || {};
    $("upload-list").textContent = "";
    $("upload-summary").textContent = "待上传的扫码被拒绝：" + (error.message || "请求有误") + "。扫码仍保存在本机，处理后会自动重试。";
    $("upload-report").hidden = false;
  }
  var uploadPending = false;
  function later() { uploadPending = true; setTimeout(function () { uploadPending = false; upload(); }, 10000); }

  // ---- verdicts --------------------------------------------------------------------------------
  function tone(answer) {
    if (answer.verdict === "allow") { return "allow"; }
    if (answer.verdict === "isolate") { return "isolate"; }
    return station.recheck.indexOf(answer.reason) >= 0 ? "recheck" : "deny";
  }
  function paint(state, word, message, passenger, health, started) {
    seq += 1;
    verdict.className = "fg-verdict mt-3 fg-verdict-" + state;
    $("verdict-word").textContent = word;
    $("verdict-message").textContent = message;
    $("verdict-who").hidden = !passenger;
    $("verdict-cert").hidden = true;  // a certificate's answer fills it after painting (showAnswer)
    if (passenger) {
      $("who-name").textContent = passenger.name || "—";
      $("who-id").textContent = passenger.id_last4 || "—";
      $("who-trip").textContent = passenger.trip + (passenger.plate ? "（" + passenger.plate + "）" : "");
      $("who-seat").textContent = passenger.seat + " 号";
      $("who-health").textContent = health ? (station.health[health.status] || health.status) : "—";
    }
    verdict.setAttribute("data-verdict", state);
    var shown = seq;
    // Enter → verdict on screen: measured at the next frame, when the browser paints it (read by the browser test).
    window.requestAnimationFrame(function () {
      if (started !== undefined) { verdict.setAttribute("data-ms", (performance.now() - started).toFixed(1)); }
      verdict.setAttribute("data-seq", String(shown));
    });
    beep(state);
    qr.focus();
  }
  function showAnswer(answer, started) {
    var state = tone(answer);
    var message = answer.message + (answer.replayed ? "（重复提交，沿用首次结果）" : "");
    paint(state, WORDS[state], message, answer.passenger, answer.health, started);
    certificates.show(answer);
    verdict.setAttribute("data-client-event-id", answer.client_event_id);
  }
  function showQueued(scan, started, message) {
    enqueue(scan);
    paint("queued", WORDS.queued, message || "已离线保存，联网后自动上传", null, null, started);
    verdict.setAttribute("data-client-event-id", scan.client_event_id);
  }
  function showUploadReport(results) {
    var counts = { allow: 0, recheck: 0, isolate: 0, deny: 0 };
    var conflicts = 0;
    var list = $("upload-list");
    list.textContent = "";
    results.forEach(function (result) {
      var state = tone(result);
      counts[state] += 1;
      if (result.conflict) { conflicts += 1; }
      var item = document.createElement("li");
      item.className = "list-group-item px-0 py-1";
      var word = document.createElement("span");
      word.className = "badge me-2 " + { allow: "text-bg-success", recheck: "text-bg-warning", isolate: "text-bg-danger",
        deny: "text-bg-danger" }[state];
      word.textContent = WORDS[state];
      item.appendChild(word);
      var who = result.passenger ? result.passenger.name + " · 末四位 " + result.passenger.id_last4 + " · " : "";
      item.appendChild(document.createTextNode(who + result.message));
      if (result.conflict) {
        var flag = document.createElement("span");
        flag.className = "badge text-bg-dark ms-2";
        flag.textContent = "冲突";
        item.appendChild(flag);
      }
      list.appendChild(item);
    });
    $("upload-summary").textContent = "已上传 " + results.length + " 条：放行 " + counts.allow + "，复核 " + counts.recheck +
      "，隔离 " + counts.isolate + "，拒绝 " + counts.deny + (conflicts ? "；冲突 " + conflicts + " 条，请核对" : "");
    $("upload-report").hidden = false;
  }

  // ---- sound: a short, different pattern per verdict (Web Audio, no files) ----------------------
  var audio = null;
  var PATTERNS = { allow: [[880, 0.09], [1320, 0.12]], recheck: [[660, 0.12], [0, 0.06], [660, 0.12]],
    isolate: [[330, 0.18], [0, 0.05], [220, 0.35]], deny: [[200, 0.45]], queued: [[520, 0.08], [0, 0.05], [390, 0.08]],
    error: [[150, 0.12], [0, 0.05], [150, 0.12], [0, 0.05], [150, 0.12]] };
  function beep(state) {
    var pattern = PATTERNS[state];
    if (!pattern) { return; }
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") { audio.resume().catch(function () { /* muted until the next key */ }); }
      var at = audio.currentTime;
      pattern.forEach(function (step) {
        if (step[0]) {
          var osc = audio.createOscillator();
          var gain = audio.createGain();
          osc.type = state === "deny" || state === "isolate" || state === "error" ? "square" : "sine";
          osc.frequency.value = step[0];
          gain.gain.value = 0.15;
          osc.connect(gain).connect(audio.destination);
          osc.start(at);
          osc.stop(at + step[1]);
        }
        at += step[1];
      });
    } catch (e) { /* no audio device: the colour and the word still say it */ }
  }

  // ---- scanning --------------------------------------------------------------------------------
  function readScan(text) {
    var degrees = parseFloat(temperature.value);
    if (isNaN(degrees)) { return null; }  // its range is the API's to check (422 with the field's message)
    var symptoms = Array.prototype.map.call(form.querySelectorAll('input[name="symptom"]:checked'),
      function (box) { return box.value; });
    return {
      qr: text, kind: kind.value, checkpoint_id: station.checkpoint, temperature: Math.round(degrees * 10) / 10,
      symptoms: symptoms, client_event_id: uuid(), scanned_at: new Date().toISOString(), device_id: deviceId()
    };
  }
  function submit(text) {
    var started = performance.now();
    certificates.close(false);
    var scan = readScan(text);
    if (!scan) {
      paint("error", "未核验", "请先填写体温", null, null, started);
      temperature.focus();
      return;
    }
    form.querySelectorAll('input[name="symptom"]:checked').forEach(function (box) { box.checked = false; });
    // The last person's verdict never stays up while this one is judged.
    verdict.className = "fg-verdict mt-3 fg-verdict-pending";
    verdict.setAttribute("data-verdict", "pending");
    $("verdict-word").textContent = "核验中…";
    $("verdict-message").textContent = "";
    $("verdict-who").hidden = true;
    $("verdict-cert").hidden = true;
    var certificate = certificates.isCertificate(text);
    if (!navigator.onLine) {
      if (certificate) { certificates.needsNetwork(started); } else { showQueued(scan, started); }
      return;
    }
    post(station.scans, scan).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (response.status === 200 && body) {
          showAnswer(body, started);
          certificates.offer(scan, body);
          refreshExpected();
          return;
        }
        if (keepForLater(response.status, body) && certificate) {
          certificates.needsNetwork(started, response.status === 401 || response.status === 403
            ? "登录已失效，请重新登录" : "服务器暂时无法核验");
          return;
        }
        if (keepForLater(response.status, body)) {
          showQueued(scan, started, response.status === 401 || response.status === 403
            ? "登录已失效：已保存在本机，请重新登录，之后自动上传" : undefined);
          return;
        }
        var message = body && body.error ? body.error.message : "请求未被受理（" + response.status + "）";
        if (body && body.error && body.error.fields) {
          message = Object.keys(body.error.fields).map(function (name) {
            return (FIELD_NAMES[name] || name) + [].concat(body.error.fields[name]).join("，");
          }).join("；");
        }
        paint("error", "未核验", message, null, null, started);
      });
    }).catch(function () {
      if (certificate) { certificates.needsNetwork(started, "网络中断"); } else { showQueued(scan, started); }
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = qr.value.trim();
    qr.value = "";
    if (text) { submit(text); } else { qr.focus(); }
  });
  // Enter in the temperature field goes back to the scan input rather than sending an empty code.
  temperature.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); qr.focus(); }
  });
  temperature.addEventListener("input", function () { store("fg-station-temperature", temperature.value); });
  kind.addEventListener("change", function () { store("fg-station-kind", kind.value); qr.focus(); });
  // A click on nothing in particular returns focus to the scan input, ready for the next person.
  document.addEventListener("click", function (event) {
    if (!event.target.closest("input, select, button, a, summary, label, textarea, video, #expected, #register-form")) {
      qr.focus();
    }
  });
  temperature.value = stored("fg-station-temperature", temperature.value);
  kind.value = stored("fg-station-kind", kind.value) === "checkpoint" ? "checkpoint" : "arrive";

  // ---- the expected list refreshes by itself, and after each scan -------------------------------
  var refreshTimer = null;
  function refreshExpected() {
    if (refreshTimer) { clearTimeout(refreshTimer); }
    refreshTimer = setTimeout(function () {
      if (navigator.onLine && window.htmx) { window.htmx.trigger("#expected", "fg-refresh"); }
    }, 400);
  }
  setInterval(function () { if (navigator.onLine && window.htmx) { window.htmx.trigger("#expected", "fg-refresh"); } }, 15000);

  // ---- the network comes and goes ---------------------------------------------------------------
  window.addEventListener("online", function () { showNetwork(); upload(); refreshExpected(); });
  window.addEventListener("offline", showNetwork);
  setInterval(upload, 20000);
  $("queue-upload").addEventListener("click", function () { upload(); qr.focus(); });

  // ---- camera: the decoded text takes the same path as the scanner's -----------------------------
  var camera = null;
  function loadReader() {
    if (window.ZXingBrowser) { return Promise.resolve(window.ZXingBrowser); }
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = station.zxing;
      script.onload = function () { resolve(window.ZXingBrowser); };
      script.onerror = reject;
      document.body.appendChild(script);
    });
  }
  function stopCamera() {
    if (camera) { camera.stop(); camera = null; }
    $("camera-box").hidden = true;
    $("camera-button").textContent = "摄像头扫码";
    $("camera-button").setAttribute("aria-pressed", "false");
  }
  $("camera-button").addEventListener("click", function () {
    if (camera) { stopCamera(); qr.focus(); return; }
    $("camera-box").hidden = false;
    $("camera-button").textContent = "关闭摄像头";
    $("camera-button").setAttribute("aria-pressed", "true");
    loadReader().then(function (ZX) {
      var reader = new ZX.BrowserQRCodeReader();
      return reader.decodeFromVideoDevice(undefined, $("camera-view"), function (result, error, controls) {
        if (!result) { return; }
        controls.stop();
        camera = null;
        stopCamera();
        submit(result.getText());
      }).then(function (controls) {
        if ($("camera-box").hidden) { controls.stop(); } else { camera = controls; }
      });
    }).catch(function () {
      stopCamera();
      paint("error", "未开启", "无法打开摄像头：请允许浏览器使用摄像头，或改用扫码枪", null, null);
    });
  });

  certificates = window.fgCertificateStation({
    station: station, form: form, qr: qr, temperature: temperature, post: post, uuid: uuid, deviceId: deviceId,
    keepForLater: keepForLater, paint: paint, showAnswer: showAnswer, refreshExpected: refreshExpected
  });
  showNetwork();
  showQueue();
  qr.focus();
  upload();
})();
