// 卡口扫码, health certificates (健康证明, 互认): what the verdict panel shows of a certificate, and the form that
// registers the holder of another city's certificate who has no record here (POST /certificates/register).
// The server judges both; this script shows its answers. A certificate is never queued offline: a partner's
// holder with no record here is registered online with the ID card in hand, so without a network the officer
// is told to wait (the batch upload would judge a queued one, but the holder would have gone by then).
(function () {
  "use strict";

  window.fgCertificateStation = function (ctx) {
    var config = ctx.station.certificate;
    var form = document.getElementById("register-form");
    var pending = null;  // the registration on screen: {qr, symptoms, id, at} (id kept while retrying)
    var FIELDS = { id_number: "register-id", name: "register-name", mobile: "register-mobile" };
    var FIELD_WORDS = { temperature: "体温", symptoms: "症状", qr: "健康证明" };

    function $(id) { return document.getElementById(id); }
    function isCertificate(text) {
      return String(text).trim().slice(0, config.prefix.length).toUpperCase() === config.prefix;
    }
    function when(iso) { return iso ? iso.slice(0, 10) + " " + iso.slice(11, 16) : "—"; }

    // ---- the certificate under its verdict ---------------------------------------------------------
    function ago(hours) {
      if (hours < 1) { return Math.max(1, Math.round(hours * 60)) + " 分钟前更新"; }
      if (hours < 48) { return Math.floor(hours) + " 小时前更新"; }
      return Math.floor(hours / 24) + " 天前更新";
    }
    function trustWords(trust) {
      if (!trust) { return { text: "签发地未与本地互认", stale: false }; }
      if (trust.synced_at === null) { return { text: "本地签发，实时数据", stale: false }; }
      var text = ago(trust.age_hours) + "（" + when(trust.synced_at) + "）";  // under its label 互认数据
      if (trust.stale) { text += "：已超过 " + trust.stale_after_hours + " 小时，须人工复核"; }
      return { text: text, stale: trust.stale };
    }
    function basisWords(basis) {
      var said = [config.status_words[basis.status] || basis.status];
      if (basis.check_temperature !== null) {
        said.push("行前体温 " + basis.check_temperature + "℃" + (basis.check_at ? "（" + when(basis.check_at) + "）" : ""));
      }
      var observation = config.observation_words[basis.observation] || basis.observation;
      said.push(observation.replace("{until}", basis.observation_until || "—"));
      return said.join("；");
    }
    function show(answer) {
      var box = $("verdict-cert");
      var certificate = answer.certificate;
      box.hidden = !certificate;
      if (!certificate) { return; }
      var county = certificate.county.name || "县区代码 " + certificate.county.code;
      $("cert-issuer").textContent = (certificate.issuer.name || certificate.issuer.id) + " · " + county;
      $("cert-name").textContent = certificate.name;
      $("cert-id").textContent = certificate.id_last4 + (certificate.id_checked ? "（已核对身份证）" : "");
      $("cert-until").textContent = when(certificate.valid_until);
      $("cert-basis").textContent = basisWords(certificate.basis);
      var trust = trustWords(answer.trust);
      $("cert-trust").textContent = trust.text;
      $("cert-trust").className = trust.stale ? "fg-trust-stale" : "";
      box.setAttribute("data-stale", trust.stale ? "1" : "0");
      $("cert-worker-box").hidden = !answer.worker;
      if (answer.worker) {
        $("cert-worker").textContent = answer.worker.name + " " + answer.worker.id_number +
          (answer.worker.created ? "（新建档案，本人可在小程序认领）" : "（已有档案）");
      }
    }

    // ---- registering the holder of a partner's certificate ------------------------------------------
    function symptomBoxes() { return ctx.form.querySelectorAll('input[name="symptom"]'); }
    function setSymptoms(codes) {
      symptomBoxes().forEach(function (box) { box.checked = codes.indexOf(box.value) >= 0; });
    }
    // The reading the registration will send, said in the form (the fields it comes from may be scrolled away).
    function showReading() {
      if (!pending) { return; }
      var said = Array.prototype.map.call(ctx.form.querySelectorAll('input[name="symptom"]:checked'), function (box) {
        var label = ctx.form.querySelector('label[for="' + box.id + '"]');
        return label ? label.textContent : box.value;
      });
      $("register-reading").textContent = "体温 " + (ctx.temperature.value || "未填") + "℃，症状：" +
        (said.length ? said.join("、") : "无");
    }
    function clearErrors() {
      Object.keys(FIELDS).forEach(function (name) {
        $(FIELDS[name]).classList.remove("is-invalid");
        $(FIELDS[name]).removeAttribute("aria-invalid");
        $(FIELDS[name] + "-error").textContent = "";
      });
      $("register-error").hidden = true;
      $("register-error").textContent = "";
    }
    function fieldError(name, text) {
      var input = $(FIELDS[name]);
      input.classList.add("is-invalid");
      input.setAttribute("aria-invalid", "true");
      $(FIELDS[name] + "-error").textContent = text;
    }
    function generalError(text) {
      $("register-error").textContent = text;
      $("register-error").hidden = false;
    }
    // The scan answered that the holder can be registered (certificate_unregistered, or a genuine certificate to
    // recheck, e.g. stale trust data, whose holder has no record): the form opens in place, the reading typed stays.
    function offer(scan, answer) {
      if (!answer.registrable || !answer.certificate) { return; }
      pending = { qr: scan.qr, id: null, at: null };
      setSymptoms(scan.symptoms);
      showReading();
      clearErrors();
      ["register-id", "register-name", "register-mobile"].forEach(function (id) { $(id).value = ""; });
      form.hidden = false;
      form.scrollIntoView({ block: "nearest" });
      $("register-id").focus();
    }
    function close(backToScan) {
      if (!pending) { return; }
      pending = null;
      form.hidden = true;
      setSymptoms([]);
      if (backToScan) { ctx.qr.focus(); }
    }
    function refused(status, body) {
      var error = (body && body.error) || {};
      var fields = error.fields || {};
      var said = false;
      if (error.code === "certificate_refused" && error.details && error.details.reason === "id_mismatch") {
        fieldError("id_number", error.message);
        said = true;
      }
      Object.keys(fields).forEach(function (name) {
        var text = [].concat(fields[name]).join("，");
        if (FIELDS[name]) { fieldError(name, text); said = true; return; }
        generalError((FIELD_WORDS[name] || name) + text);
        said = true;
      });
      if (!said) { generalError(error.message || "登记未被受理（" + status + "）"); }
      var first = form.querySelector(".is-invalid");
      (first || $("register-id")).focus();
    }
    function submit(event) {
      event.preventDefault();
      if (!pending || pending.busy) { return; }
      clearErrors();
      var idNumber = $("register-id").value.trim();
      var name = $("register-name").value.trim();
      var mobile = $("register-mobile").value.trim();
      if (!idNumber) { fieldError("id_number", "请填写身份证号"); }
      if (!name) { fieldError("name", "请填写姓名"); }
      if (!mobile) { fieldError("mobile", "请填写手机号（本人认领档案时核对）"); }
      var degrees = parseFloat(ctx.temperature.value);
      if (isNaN(degrees)) { generalError("请先在上方填写体温"); }
      if (!idNumber || !name || !mobile || isNaN(degrees)) {
        (form.querySelector(".is-invalid") || ctx.temperature).focus();
        return;
      }
      if (!navigator.onLine) {
        generalError("离线时不能登记外地健康证明（须联网核验）：请让持证人稍候，联网后按回车登记");
        return;
      }
      // One registration, one client_event_id: a retry after a lost answer sends the same id, and the server
      // answers what it stored the first time. An answer that refused it stored nothing: the next try is new.
      if (!pending.id) { pending.id = ctx.uuid(); pending.at = new Date().toISOString(); }
      var body = { client_event_id: pending.id, scanned_at: pending.at, device_id: ctx.deviceId(), qr: pending.qr,
        id_number: idNumber, name: name, mobile: mobile, temperature: Math.round(degrees * 10) / 10,
        symptoms: Array.prototype.map.call(ctx.form.querySelectorAll('input[name="symptom"]:checked'),
          function (box) { return box.value; }) };
      var sent = pending;
      sent.busy = true;
      $("register-submit").disabled = true;
      ctx.post(config.register, body).then(function (response) {
        return response.json().catch(function () { return null; }).then(function (answer) {
          if (response.status === 200 && answer) {
            close(false);
            ctx.showAnswer(answer);
            ctx.refreshExpected();
            return;
          }
          if (ctx.keepForLater(response.status, answer)) {
            generalError(response.status === 401 ? "登录已失效：请重新登录后再登记"
              : "暂时无法登记（服务器繁忙）：请稍后按回车重试，不会重复登记");
            return;
          }
          sent.id = null;
          refused(response.status, answer);
        });
      }).catch(function () {
        generalError("网络中断，未能登记：联网后按回车重试，不会重复登记");
      }).finally(function () {
        sent.busy = false;
        $("register-submit").disabled = false;
      });
    }
    form.addEventListener("submit", submit);
    ctx.form.addEventListener("input", showReading);
    ctx.form.addEventListener("change", showReading);
    // Esc cancels wherever the focus is (a click on the verdict sends it to the scan input).
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && pending) { event.preventDefault(); close(true); }
    });
    $("register-cancel").addEventListener("click", function () { close(true); });

    // ---- no network: a certificate waits for it, in person, rather than in the queue ----------------
    function needsNetwork(started, why) {
      ctx.paint("error", "须联网", (why || "离线") + "：健康证明须联网核验，不存入待上传。请让持证人稍候，联网后重新扫码",
        null, null, started);
    }

    return { isCertificate: isCertificate, show: show, offer: offer, close: close, needsNetwork: needsNetwork };
  };
})();
