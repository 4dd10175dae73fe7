"use strict";
// The subject's page. It reads an InferenceRegistry over JSON-RPC (plain fetch; ethers, from
// npm, only encodes and decodes ABI data) and shows what the registry holds for the
// commitments in a salt file (0x….json or proof.secret.json) dropped here. The file is read
// in this page and only its public commitments are kept: the salts are dropped at once and
// never reach a request. By default even the commitments stay here: the page reads every
// InferenceVerified event of the registry and matches them itself.
(function () {
  const abi = window.ZKML_REGISTRY_ABI;
  const iface = new ethers.Interface(abi);
  const RESULT_EVENT = iface.getEvent("InferenceVerified");
  const LOG_BLOCKS = 5000; // blocks per eth_getLogs: public nodes limit the range
  const $ = (id) => document.getElementById(id);
  let commitments = []; // from the secret file: 0x + 64 hex digits, lower case
  let rpcId = 0;

  function status(text, isError) {
    const line = $("status");
    line.textContent = text;
    line.className = isError ? "error" : "";
  }

  function hex32(value) {
    return "0x" + BigInt(value).toString(16).padStart(64, "0");
  }

  async function rpc(url, method, params) {
    rpcId += 1;
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: rpcId, method: method, params: params }),
        referrerPolicy: "no-referrer",
        credentials: "omit",
        cache: "no-store",
      });
    } catch (error) {
      throw new Error("cannot reach the node (" + error.message + ")");
    }
    if (!response.ok) throw new Error("the node answered " + method + " with HTTP " + response.status);
    const answer = await response.json();
    if (answer.error) throw new Error("the node refused " + method + ": " + (answer.error.message || "no reason given"));
    return answer.result;
  }

  async function view(url, registry, name, args) {
    const data = iface.encodeFunctionData(name, args || []);
    let raw;
    try {
      raw = await rpc(url, "eth_call", [{ to: registry, data: data }, "latest"]);
    } catch (error) {
      throw new Error("the registry did not answer " + name + ": " + error.message);
    }
    return iface.decodeFunctionResult(name, raw);
  }

  // ---- the secret file: kept only as its public commitments ----

  async function readSecret(file) {
    let parsed;
    try {
      parsed = JSON.parse(await file.text());
    } catch (error) {
      throw new Error(file.name + " is not JSON");
    }
    const subjects = parsed && Array.isArray(parsed.subjects) ? parsed.subjects : null;
    if (!subjects || subjects.length === 0) {
      throw new Error(file.name + ' is not a salt file (no "subjects")');
    }
    const found = subjects.map(function (subject) {
      const text = subject && typeof subject.commitment === "string" ? subject.commitment : "";
      if (!/^0x[0-9a-fA-F]{1,64}$/.test(text)) throw new Error(file.name + " holds a malformed commitment");
      return hex32(text);
    });
    parsed = null; // the salts go with it: nothing else of the file is kept
    return found;
  }

  // ---- reading the registry ----

  // Each version's record, and whether its verifier's code is still the code recorded when the
  // version was added (the verifier's address is public: nothing about the subject is sent).
  async function versionInfos(url, registry, versions, cache) {
    for (const version of versions) {
      if (!cache.has(version)) {
        const info = (await view(url, registry, "versionInfo", [version]))[0];
        const code = await rpc(url, "eth_getCode", [info.verifier, "latest"]);
        const codeHash = code && code !== "0x" ? ethers.keccak256(code) : null;
        cache.set(version, { info: info, codeUnchanged: codeHash === info.verifierCodeHash });
      }
    }
    return cache;
  }

  function utc(seconds) {
    return new Date(Number(seconds) * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  }

  // active (counts for currentResultOf), pending (records, counts from its activation time) or
  // retired (records nothing), as the node's latest block sees it.
  function statusOf(info) {
    if (BigInt(info.retiredBlock) !== 0n) return ["retired", "retired at block " + info.retiredBlock];
    if (info.active) return ["active", "active"];
    return ["pending", "pending: counts as the current result from " + utc(info.activatesAt)];
  }

  // Every InferenceVerified event of the registry: nothing about the subject is sent.
  async function scanResults(url, registry) {
    const from = Number((await view(url, registry, "deployedAt"))[0]);
    const latest = Number(BigInt(await rpc(url, "eth_blockNumber", [])));
    const found = [];
    for (let start = from; start <= latest; start += LOG_BLOCKS) {
      const end = Math.min(latest, start + LOG_BLOCKS - 1);
      status("reading the registry's results: blocks " + start + "–" + end + " of " + latest + " …");
      const logs = await rpc(url, "eth_getLogs", [{
        address: registry, fromBlock: "0x" + start.toString(16), toBlock: "0x" + end.toString(16),
        topics: [RESULT_EVENT.topicHash],
      }]);
      for (const log of logs) found.push(log);
    }
    return found;
  }

  function fromLog(log) {
    const parsed = iface.parseLog({ topics: log.topics, data: log.data });
    return {
      version: parsed.args.version,
      commitment: hex32(parsed.args.commitment),
      id: parsed.args.id,
      outputs: Array.from(parsed.args.outputs),
      block: Number(BigInt(log.blockNumber)),
      transaction: log.transactionHash,
    };
  }

  // Asks the node for one commitment in each version (the node sees the commitment).
  async function directResults(url, registry, commitment) {
    const count = Number((await view(url, registry, "versionCount"))[0]);
    const found = [];
    for (let version = 1; version <= count; version++) {
      if (!(await view(url, registry, "hasResult", [version, commitment]))[0]) continue;
      const outputs = Array.from((await view(url, registry, "resultOf", [version, commitment]))[0]);
      const id = (await view(url, registry, "resultIdOf", [version, commitment]))[0];
      const block = Number((await view(url, registry, "resultBlockOf", [version, commitment]))[0]);
      const logs = await rpc(url, "eth_getLogs", [{
        address: registry, fromBlock: "0x" + block.toString(16), toBlock: "0x" + block.toString(16),
        topics: [RESULT_EVENT.topicHash, hex32(version), null, commitment],
      }]);
      found.push({
        version: BigInt(version), commitment: commitment, id: id, outputs: outputs, block: block,
        transaction: logs.length ? logs[0].transactionHash : null,
      });
    }
    return found;
  }

  // ---- showing a result ----

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text; // never HTML: labels come from the chain
    return node;
  }

  function render(result, record) {
    const info = record.info;
    const [state, said] = statusOf(info);
    const card = element("article", "result");
    card.dataset.version = String(result.version);
    card.dataset.commitment = result.commitment;
    card.dataset.active = String(info.active);
    card.dataset.status = state;
    const heading = element("h3", null, "Version " + result.version + " — ");
    heading.appendChild(element("span", state + " status", said));
    card.appendChild(heading);

    const lengths = Array.from(info.outputLengths, Number);
    const scales = Array.from(info.outputScales, Number);
    const labels = Array.from(info.labels);
    let at = 0;
    let best = -1;
    if (lengths[0] > 1) {
      best = 0;
      for (let c = 1; c < lengths[0]; c++) if (result.outputs[c] > result.outputs[best]) best = c;
    }
    const table = element("table", "outputs");
    lengths.forEach(function (length, k) {
      for (let e = 0; e < length; e++, at++) {
        const value = Number(result.outputs[at]) / Math.pow(2, scales[k]);
        const named = k === 0 && labels.length === length ? labels[e] : "output " + k + "[" + e + "]";
        const row = element("tr", k === 0 && e === best ? "best" : "");
        row.appendChild(element("td", "label", named));
        row.appendChild(element("td", "value", value.toFixed(4)));
        table.appendChild(row);
      }
    });
    card.appendChild(table);
    if (best >= 0) {
      card.appendChild(element("p", "prediction",
        "Prediction: " + (labels.length === lengths[0] ? labels[best] : "class " + best)));
    }
    card.appendChild(element("p", "meta record",
      "Result #" + result.id + " of version " + result.version + ", recorded in block " +
      result.block + (result.transaction ? ", transaction " + result.transaction : "") + "."));
    card.appendChild(element("p", "meta model",
      "Model sha256 " + info.modelDigest.slice(2) + "; verifying key sha256 " +
      info.vkHash.slice(2) + "; " + (BigInt(info.vka) === 0n ? "its own verifier " : "the shared verifier ") +
      info.verifier + "."));
    card.appendChild(element("p", record.codeUnchanged ? "meta code" : "meta code changed",
      "Verifier code hash recorded when the version was added: " + info.verifierCodeHash.slice(2) +
      (record.codeUnchanged ? "; the code there is still that code." :
        "; the code there now is NOT that code: do not trust this version's new results.")));
    return card;
  }

  async function lookUp() {
    const url = $("rpc-url").value.trim();
    const registryText = $("registry").value.trim();
    const results = $("results");
    results.textContent = "";
    if (!commitments.length) return status("Drop your salt file first.", true);
    if (!/^https?:\/\//.test(url)) return status("Give the node's http(s) URL.", true);
    if (!ethers.isAddress(registryText)) return status("Give the registry's 0x address.", true);
    const registry = ethers.getAddress(registryText);
    $("look-up").disabled = true;
    try {
      status("connecting …");
      const chainId = Number(BigInt(await rpc(url, "eth_chainId", [])));
      const count = Number((await view(url, registry, "versionCount"))[0]);
      let found = [];
      if ($("mode-direct").checked) {
        for (const commitment of commitments) found = found.concat(await directResults(url, registry, commitment));
      } else {
        const mine = new Set(commitments);
        found = (await scanResults(url, registry)).map(fromLog).filter(function (r) { return mine.has(r.commitment); });
      }
      const infos = await versionInfos(url, registry, new Set(found.map(function (r) { return r.version; })), new Map());
      for (const commitment of commitments) {
        const section = element("section", "subject");
        section.dataset.commitment = commitment;
        section.appendChild(element("h2", null, "Commitment " + commitment));
        const mine = found.filter(function (r) { return r.commitment === commitment; })
          .sort(function (a, b) { return Number(b.version - a.version); });
        if (!mine.length) section.appendChild(element("p", "none", "No result is recorded for it in this registry."));
        for (const result of mine) section.appendChild(render(result, infos.get(result.version)));
        results.appendChild(section);
      }
      showCheckCommand(found);
      status(found.length + " result(s) for your " + commitments.length + " commitment(s) in registry " +
        registry + " on chain " + chainId + " (" + count + " model version(s)).");
    } catch (error) {
      status(error.message, true);
    } finally {
      $("look-up").disabled = false;
    }
  }

  async function takeFile(file) {
    try {
      commitments = await readSecret(file);
      $("look-up").disabled = false;
      status("Read " + commitments.length + " commitment(s) from " + file.name + "; the salt was dropped.");
      if ($("rpc-url").value.trim() && $("registry").value.trim()) await lookUp();
    } catch (error) {
      commitments = [];
      $("look-up").disabled = true;
      status(error.message, true);
    }
  }

  // The `zkml commitment` line names the model of the version that recorded the subject's
  // result (the oldest one, where the salt file was made), when the server knows it.
  let models = {};
  let latestModel = null;

  function showCheckCommand(found) {
    const versions = found.map(function (r) { return Number(r.version); }).sort(function (a, b) { return a - b; });
    const model = versions.length && models[String(versions[0])] ? models[String(versions[0])] : latestModel;
    if (model) $("check-command").textContent =
      "zkml commitment " + model + " --input YOUR_INPUT.json --secret YOUR_SALT_FILE.json";
  }

  // ---- wiring ----

  async function prefill() {
    let config = {};
    if (location.protocol === "http:" || location.protocol === "https:") {
      try {
        const response = await fetch("config.json", { cache: "no-store" });
        if (response.ok) config = await response.json();
      } catch (error) { /* a page served without zkml serve */ }
    }
    const query = new URLSearchParams(location.search);
    $("rpc-url").value = query.get("rpc") || config.rpcUrl || "";
    $("registry").value = query.get("registry") || config.registry || "";
    models = config.models || {};
    latestModel = config.model || null;
    showCheckCommand([]);
  }

  const zone = $("drop-zone");
  zone.addEventListener("dragover", function (event) { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer.files.length) takeFile(event.dataTransfer.files[0]);
  });
  $("secret-file").addEventListener("change", function (event) {
    if (event.target.files.length) takeFile(event.target.files[0]);
    event.target.value = "";
  });
  $("look-up").addEventListener("click", lookUp);
  prefill();
})();
