// sanzhi console: checks an audit entry in the browser, without trusting
// the server's word. No libraries; WebCrypto only. The page shows the
// proof without this script; the script adds the verdict.
//
// 1. leaf hash = SHA-256(0x00 || entry bytes)            (RFC 6962 §2.1)
// 2. walk the inclusion path, node = SHA-256(0x01 || l || r)
//    (RFC 9162 §2.1.3.2), to a root;
// 3. compare it with the root of the signed checkpoint (C2SP
//    tlog-checkpoint: origin, size, base64 root[, time]);
// 4. verify the checkpoint's Ed25519 note signature with the published
//    verifier key "name+hash+base64(0x01 || key)", where the browser
//    supports Ed25519 in WebCrypto.
// Data come in data- attributes of #verify (the CSP forbids inline script).
(function () {
  "use strict";
  var box = document.getElementById("verify");
  if (!box) { return; }
  var d = box.dataset;
  function $(id) { return document.getElementById(id); }
  function say(id, s) { $(id).textContent = s; }

  function b64(s) {
    var bin = atob(s), u = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { u[i] = bin.charCodeAt(i); }
    return u;
  }
  function hex(u) {
    var s = "";
    for (var i = 0; i < u.length; i++) { s += (u[i] < 16 ? "0" : "") + u[i].toString(16); }
    return s;
  }
  function cat() {
    var n = 0, i;
    for (i = 0; i < arguments.length; i++) { n += arguments[i].length; }
    var out = new Uint8Array(n), at = 0;
    for (i = 0; i < arguments.length; i++) { out.set(arguments[i], at); at += arguments[i].length; }
    return out;
  }
  function equal(a, b) {
    if (a.length !== b.length) { return false; }
    var x = 0;
    for (var i = 0; i < a.length; i++) { x |= a[i] ^ b[i]; }
    return x === 0;
  }
  function sha256(u) {
    return crypto.subtle.digest("SHA-256", u).then(function (b) { return new Uint8Array(b); });
  }
  var ZERO = new Uint8Array([0]), ONE = new Uint8Array([1]);
  function leafHash(data) { return sha256(cat(ZERO, data)); }
  function nodeHash(l, r) { return sha256(cat(ONE, l, r)); }

  // rootFromPath is RFC 9162 §2.1.3.2. Indices fit in a double's 53 bits.
  async function rootFromPath(index, size, leaf, path) {
    if (index >= size) { return null; }
    var fn = index, sn = size - 1, r = leaf;
    for (var i = 0; i < path.length; i++) {
      var p = path[i];
      if (p.length !== 32 || sn === 0) { return null; }
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 ? r : null;
  }

  // openNote splits a signed note into its text (what is signed) and its
  // signature lines "— name base64(keyhash[4] || sig[64])".
  function openNote(bytes) {
    var s = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    var cut = s.lastIndexOf("\n\n");
    if (cut < 0) { return null; }
    var text = s.slice(0, cut + 1), sigs = [];
    s.slice(cut + 2).split("\n").forEach(function (line) {
      var m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (m) { sigs.push({ name: m[1], raw: b64(m[2]) }); }
    });
    var lines = text.slice(0, -1).split("\n");
    if (lines.length < 3) { return null; }
    return { text: text, origin: lines[0], size: lines[1], root: b64(lines[2]), sigs: sigs };
  }

  // checkSignature answers "ok", "bad" or "unsupported".
  async function checkSignature(note, vkey) {
    // name+hash+key: the base64 key may itself hold "+".
    var parts = vkey.split("+");
    if (parts.length < 3) { return "bad"; }
    var name = parts[0], key = b64(parts.slice(2).join("+"));
    if (key.length !== 33 || key[0] !== 1) { return "bad"; }
    // The key hash binds name and key: SHA-256(name || "\n" || key)[:4].
    var kh = (await sha256(cat(new TextEncoder().encode(name + "\n"), key))).slice(0, 4);
    if (hex(kh) !== parts[1] || name !== note.origin) { return "bad"; }
    var pub;
    try {
      pub = await crypto.subtle.importKey("raw", key.slice(1), { name: "Ed25519" }, false, ["verify"]);
    } catch (e) {
      return "unsupported";
    }
    for (var i = 0; i < note.sigs.length; i++) {
      var s = note.sigs[i];
      if (s.name === name && s.raw.length === 68 && equal(s.raw.slice(0, 4), kh)) {
        var ok = await crypto.subtle.verify({ name: "Ed25519" }, pub, s.raw.slice(4), new TextEncoder().encode(note.text));
        return ok ? "ok" : "bad";
      }
    }
    return "bad";
  }

  function verdict(ok) {
    var v = $("verdict");
    v.dataset.verdict = ok ? "verified" : "failed";
    v.className = "verdict " + (ok ? "ok" : "bad");
    v.textContent = ok ? d.mVerified : d.mFailed;
  }

  async function run() {
    if (!window.crypto || !crypto.subtle) {
      $("verdict").dataset.verdict = "unavailable";
      say("verdict", d.mNoCrypto);
      return;
    }
    say("verdict", d.mChecking);
    var leaf = b64(d.leaf), index = Number(d.index);
    var path = d.path ? d.path.split(" ").map(b64) : [];
    var note = openNote(b64(d.note));
    var lh = await leafHash(leaf);
    say("leaf-computed", hex(lh));
    var proofOK = false;
    if (note && /^(0|[1-9][0-9]*)$/.test(note.size)) {
      say("root-signed", hex(note.root));
      // The entry's own seq must be the index proved.
      var seqOK = false;
      try { seqOK = JSON.parse(new TextDecoder().decode(leaf)).seq === String(index); } catch (e) { seqOK = false; }
      var root = seqOK ? await rootFromPath(index, Number(note.size), lh, path) : null;
      if (root) {
        say("root-computed", hex(root));
        proofOK = equal(root, note.root);
        say("proof-result", proofOK ? d.mProofOk : d.mProofBad);
      } else {
        say("proof-result", d.mProofMalformed);
      }
    } else {
      say("proof-result", d.mProofMalformed);
    }
    var sig = note ? await checkSignature(note, d.vkey) : "bad";
    $("sig-result").dataset.sig = sig;
    say("sig-result", sig === "ok" ? d.mSigOk : sig === "unsupported" ? d.mSigUnsupported : d.mSigBad);
    verdict(proofOK && sig !== "bad");
  }
  run().catch(function () { verdict(false); });
}());
