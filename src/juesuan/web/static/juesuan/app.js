/* 部门决算工作台: the little the pages need — follow a job's progress, confirm risky buttons,
   keep a statement's names in view. */
(function () {
  "use strict";

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

  document.addEventListener("DOMContentLoaded", function () {
    var statements = document.querySelectorAll("table.statement");
    for (var t = 0; t < statements.length; t++) { pinNames(statements[t]); }
    var boxes = document.querySelectorAll("[data-status-url]");
    for (var i = 0; i < boxes.length; i++) { followJob(boxes[i]); }

    document.addEventListener("submit", function (event) {
      var form = event.target;
      var question = form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) { event.preventDefault(); return; }
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
