/* 部门决算工作台: the little the pages need — follow a job's progress, confirm risky buttons
   and deletions, ask before unsaved edits are lost, keep a statement's names in view, say in Chinese what the browser would say
   in the language of its build. */
(function () {
  "use strict";

  // Forms marked data-unsaved="name" are saved one at a time: leaving the page (or saving
  // another) with edits typed in them asks first.
  var leaving = false;

  function edited(form) {
    var fields = form.querySelectorAll("textarea, input[type=text], input[type=checkbox]");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.type === "checkbox" ? field.checked !== field.defaultChecked
          : field.value !== field.defaultValue) { return true; }
    }
    return false;
  }

  function unsavedForms(except) {
    var names = [];
    var forms = document.querySelectorAll("form[data-unsaved]");
    for (var i = 0; i < forms.length; i++) {
      if (forms[i] !== except && edited(forms[i])) { names.push(forms[i].getAttribute("data-unsaved")); }
    }
    return names;
  }

  window.addEventListener("beforeunload", function (event) {
    if (!leaving && unsavedForms(null).length) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  function followJob(box) {
    var url = box.getAttribute("data-status-url");
    var bar = box.querySelector("progress");
    var status = box.querySelector("[data-field=status]");
    var message = box.querySelector("[data-field=message]");
    var percent = box.querySelector("[data-field=progress]");
    var error = box.querySelector("[data-field=error]");
    function poll() {
      var request = new XMLHttpRequest();
      request.open("GET", url, true);
      request.setRequestHeader("Accept", "application/json");
      request.onload = function () {
        if (request.status !== 200) { setTimeout(poll, 3000); return; }
        var data = JSON.parse(request.responseText);
        bar.value = data.progress;
        percent.textContent = data.progress + "%";
        status.textContent = data.status_name;
        status.className = "pill " + data.status;
        message.textContent = data.message || "";
        if (data.error) { error.textContent = data.error; error.hidden = false; }
        if (data.finished) {
          if (data.done_url) { window.location.href = data.done_url; }
          return;
        }
        setTimeout(poll, 1000);
      };
      request.onerror = function () { setTimeout(poll, 3000); };
      request.send();
    }
    setTimeout(poll, 600);
  }

  // The leading code and name cells of a statement stay in view while its amounts scroll:
  // each is pinned where it lies (its own left offset), so rows with spans line up too.
  function pinNames(table) {
    var rows = table.tBodies.length ? table.tBodies[0].rows : [];
    var pinned = [];
    for (var r = 0; r < rows.length; r++) {
      var cells = rows[r].cells;
      for (var c = 0; c < cells.length; c++) {
        var kind = cells[c].classList;
        if (!(kind.contains("code") || kind.contains("label") || kind.contains("total-label"))) { break; }
        pinned.push([cells[c], cells[c].offsetLeft]);
      }
    }
    for (var p = 0; p < pinned.length; p++) {
      pinned[p][0].style.left = pinned[p][1] + "px";
      pinned[p][0].classList.add("sticky-col");
    }
  }

  // A formset table grows in place: the last row copied empty, numbered as the next form,
  // so what was typed in the other rows stays (saving first would lose nothing either, but
  // a clerk entering a long table should not have to).
  function addRow(prefix) {
    var table = document.querySelector("table[data-formset='" + prefix + "']");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var rows = table.tBodies[0].querySelectorAll("tr");
    var last = null;
    for (var r = rows.length - 1; r >= 0 && !last; r--) {
      if (rows[r].querySelector("input, select")) { last = rows[r]; }
    }
    var number = parseInt(total.value, 10);
    var row = last.cloneNode(true);
    var pattern = new RegExp(prefix + "-\\d+-");
    var named = row.querySelectorAll("[name], [id], label[for]");
    for (var n = 0; n < named.length; n++) {
      var names = ["name", "id", "for"];
      for (var a = 0; a < names.length; a++) {
        var value = named[n].getAttribute(names[a]);
        if (value) { named[n].setAttribute(names[a], value.replace(pattern, prefix + "-" + number + "-")); }
      }
      if (named[n].tagName === "SELECT") { named[n].selectedIndex = 0; }
      else if (named[n].tagName === "INPUT") { named[n].value = ""; }
    }
    var errors = row.querySelectorAll(".errorlist");
    for (var e = 0; e < errors.length; e++) { errors[e].parentNode.removeChild(errors[e]); }
    table.tBodies[0].appendChild(row);
    total.value = number + 1;
    var first = row.querySelector("input, select");
    if (first) { first.focus(); }
  }

  // Chromium labels a file box with the words of its build ("Choose File", "No file chosen"):
  // a Chinese button and the chosen file's name stand in for them; the box itself stays in
  // the form (out of sight), so labels, required and uploads work as before.
  function chineseFileBox(input) {
    var box = document.createElement("span");
    box.className = "file-pick";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = "选择文件";
    var chosen = document.createElement("span");
    chosen.className = "file-chosen";
    chosen.textContent = "未选择文件";
    input.parentNode.insertBefore(box, input);
    box.appendChild(input);
    box.appendChild(button);
    box.appendChild(chosen);
    button.addEventListener("click", function () { input.click(); });
    input.addEventListener("change", function () {
      var files = input.files;
      chosen.textContent = !files.length ? "未选择文件"
        : files.length === 1 ? files[0].name : "已选择 " + files.length + " 个文件";
    });
  }

  // What the browser says of a required field left empty, in Chinese.
  function missingText(field) {
    if (field.type === "file") { return "请选择文件。"; }
    if (field.tagName === "SELECT") { return "请从列表中选择。"; }
    if (field.type === "radio" || field.type === "checkbox") { return "请选择一项。"; }
    return "请填写此项。";
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-add-row]");
      if (button) { addRow(button.getAttribute("data-add-row")); }
    });
    var statements = document.querySelectorAll("table.statement");
    for (var t = 0; t < statements.length; t++) { pinNames(statements[t]); }
    var boxes = document.querySelectorAll("[data-status-url]");
    for (var i = 0; i < boxes.length; i++) { followJob(boxes[i]); }
    var files = document.querySelectorAll("input[type=file]");
    for (var f = 0; f < files.length; f++) { chineseFileBox(files[f]); }
    document.addEventListener("invalid", function (event) {
      var field = event.target;
      if (field.validity.valueMissing) { field.setCustomValidity(missingText(field)); }
    }, true);
    ["input", "change"].forEach(function (kind) {
      document.addEventListener(kind, function (event) {
        if (event.target.setCustomValidity) { event.target.setCustomValidity(""); }
      }, true);
    });

    document.addEventListener("submit", function (event) {
      var form = event.target;
      var question = form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) { event.preventDefault(); return; }
      var deleting = form.querySelectorAll("input[data-deletes]:checked");
      for (var d = 0; d < deleting.length; d++) {
        if (!window.confirm(deleting[d].getAttribute("data-deletes"))) { event.preventDefault(); return; }
      }
      if (form.hasAttribute("data-unsaved")) {
        // saving one section reloads the page: edits in the others would be lost
        var others = unsavedForms(form);
        if (others.length && !window.confirm("“" + others.join("”“") + "”还有未保存的修改，" +
            "保存这段后页面会刷新，这些修改将丢失。仍要保存这段吗？")) {
          event.preventDefault(); return;
        }
        leaving = true;
      }
      var buttons = form.querySelectorAll("button[type=submit]");
      for (var j = 0; j < buttons.length; j++) {
        if (buttons[j].hasAttribute("data-busy")) {
          buttons[j].disabled = true;
          buttons[j].textContent = buttons[j].getAttribute("data-busy");
        }
      }
    });
  });
})();
