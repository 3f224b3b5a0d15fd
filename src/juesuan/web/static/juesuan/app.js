/* 部门决算工作台: the little the pages need — follow a job's progress, confirm risky buttons. */
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

  document.addEventListener("DOMContentLoaded", function () {
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
