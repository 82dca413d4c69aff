/* Tongxin drafts: a form being filled survives a dropped connection or a closed tab.
 *
 * <form data-draft="KEY" data-draft-user="ID"> keeps its fields in localStorage (under the
 * key, the user and the page's path) as they are typed, and puts them back when the page
 * opens again, with a note and a "discard" button (texts from data-draft-restored and
 * data-draft-discard). data-draft-restore="off" (a form the server sent back with errors):
 * the page's values win and are kept. The hidden submission key is kept too, so a form sent
 * again after a reload is recognised by the server and not recorded twice. A page carrying
 * data-clear-draft="KEY" data-draft-user="ID" (shown once the server has saved the record)
 * drops the draft. Radios outside the form (form="...") are kept as well; a radio no longer
 * on the page (a search result) is put back into [data-draft-slot="NAME"].
 * No libraries; the pages work without it.
 */
(function () {
  "use strict";
  var PREFIX = "tongxin-draft:";
  var MAX_AGE = 7 * 24 * 3600 * 1000; // a week: older drafts are dropped unseen

  var storage;
  try {
    storage = window.localStorage;
    storage.setItem(PREFIX + "probe", "1");
    storage.removeItem(PREFIX + "probe");
  } catch (e) {
    return; // private mode or storage off: nothing to keep
  }

  function base(key, user) { return PREFIX + key + ":" + (user || "") + ":"; }
  function storeKey(form) { return base(form.dataset.draft, form.dataset.draftUser) + location.pathname; }

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrfmiddlewaretoken" && !el.disabled &&
        ["file", "password", "submit", "button", "reset"].indexOf(el.type) < 0 &&
        !el.hasAttribute("data-draft-skip");
    });
  }

  function labelOf(el) {
    var label = el.closest("label");
    return label ? label.innerHTML : "";
  }

  function read(form) {
    var values = {}, labels = {};
    fields(form).forEach(function (el) {
      if (el.type === "radio") {
        if (el.checked) { values[el.name] = el.value; labels[el.name] = labelOf(el); }
      } else if (el.type === "checkbox") {
        values[el.name] = values[el.name] || [];
        if (el.checked) values[el.name].push(el.value);
      } else if (el.multiple) {
        values[el.name] = Array.prototype.filter.call(el.options, function (o) { return o.selected; })
          .map(function (o) { return o.value; });
      } else {
        values[el.name] = el.value;
      }
    });
    return { savedAt: Date.now(), values: values, labels: labels };
  }

  function save(form) {
    try { storage.setItem(storeKey(form), JSON.stringify(read(form))); } catch (e) { /* full */ }
  }

  function load(form) {
    var raw = storage.getItem(storeKey(form));
    if (!raw) return null;
    try {
      var draft = JSON.parse(raw);
      if (draft && draft.values && Date.now() - draft.savedAt < MAX_AGE) return draft;
    } catch (e) { /* unreadable: dropped below */ }
    storage.removeItem(storeKey(form));
    return null;
  }

  function addRadio(form, name, value, label) {
    var slot = document.querySelector('[data-draft-slot="' + name + '"]');
    if (!slot || !label) return false;
    var wrap = document.createElement("div");
    wrap.setAttribute("data-draft-added", "");
    wrap.innerHTML = '<label class="tx-pick">' + label + "</label>";
    var input = wrap.querySelector("input");
    if (!input) return false;
    input.name = name;
    input.value = value;
    input.setAttribute("form", form.id);
    input.checked = true;
    slot.appendChild(wrap);
    return true;
  }

  function apply(form, draft) {
    var changed = false, found = {};
    fields(form).forEach(function (el) {
      if (!(el.name in draft.values)) return;
      var saved = draft.values[el.name];
      if (el.type === "radio") {
        if (el.value !== saved) return;
        found[el.name] = true;
        if (!el.checked) { el.checked = true; changed = true; }
      } else if (el.type === "checkbox") {
        var on = saved.indexOf(el.value) >= 0;
        if (el.checked !== on) { el.checked = on; changed = true; }
      } else if (el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) {
          var on = saved.indexOf(o.value) >= 0;
          if (o.selected !== on) { o.selected = on; changed = true; }
        });
      } else if (el.value !== saved) {
        if (el.type !== "hidden") changed = true;
        el.value = saved;
      }
    });
    Object.keys(draft.labels).forEach(function (name) {
      if (!found[name] && addRadio(form, name, draft.values[name], draft.labels[name])) changed = true;
    });
    return changed;
  }

  function note(form, hidden) {
    var box = document.createElement("div");
    box.className = "alert alert-info d-flex flex-wrap align-items-center justify-content-between gap-2";
    box.setAttribute("role", "status");
    var text = document.createElement("span");
    text.textContent = form.dataset.draftRestored || "Draft restored.";
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "btn btn-outline-secondary btn-sm";
    discard.textContent = form.dataset.draftDiscard || "Discard";
    discard.addEventListener("click", function () {
      storage.removeItem(storeKey(form));
      document.querySelectorAll("[data-draft-added]").forEach(function (n) { n.remove(); });
      form.reset(); // back to the values the server sent
      hidden.forEach(function (pair) { pair[0].value = pair[1]; }); // reset() keeps hidden values
      box.remove();
    });
    box.appendChild(text);
    box.appendChild(discard);
    form.parentNode.insertBefore(box, form.parentNode.querySelector("section, form") || form);
  }

  function start(form) {
    var hidden = fields(form).filter(function (el) { return el.type === "hidden"; })
      .map(function (el) { return [el, el.value]; });
    if (form.dataset.draftRestore === "off") {
      save(form);
    } else {
      var draft = load(form);
      if (draft && apply(form, draft)) note(form, hidden);
    }
    function keep(event) {
      if (event.target.form === form) save(form);
    }
    document.addEventListener("input", keep);
    document.addEventListener("change", keep);
  }

  function clear(marker) {
    var prefix = base(marker.dataset.clearDraft, marker.dataset.draftUser);
    for (var i = storage.length - 1; i >= 0; i--) {
      var key = storage.key(i);
      if (key && key.indexOf(prefix) === 0) storage.removeItem(key);
    }
  }

  document.querySelectorAll("[data-clear-draft]").forEach(clear);
  document.querySelectorAll("form[data-draft]").forEach(start);
})();
