#!/usr/bin/env node
// manifests.js - helpers for scripts/e2e/run.sh: read the synthesized manifests
// and compare them with what the API server stored. Plain CommonJS, no new
// dependencies (uses the project's `yaml` and `ipaddr.js`).
//
// Usage:
//   node scripts/e2e/manifests.js service-subnet KIND_CONFIG [ipv4|ipv6]
//   node scripts/e2e/manifests.js pod-subnet KIND_CONFIG
//   node scripts/e2e/manifests.js ip-family KIND_CONFIG
//   node scripts/e2e/manifests.js objects DIR
//   node scripts/e2e/manifests.js services DIR
//   node scripts/e2e/manifests.js compare-data DIR APIVERSION KIND NAME STORED_JSON
//   node scripts/e2e/manifests.js corefile DIR
//   node scripts/e2e/manifests.js kubeadm-coredns-configmap MANIFESTS_GO DNS_DOMAIN OUT_FILE
//     (writes OUT_FILE, prints its Corefile's forward target)
//   node scripts/e2e/manifests.js compare-spec DIR APIVERSION KIND NAME STORED_JSON
//   node scripts/e2e/manifests.js dropped-fields DIR APIVERSION KIND NAME STORED_JSON
//   node scripts/e2e/manifests.js check-cluster-ips SVC_JSON SERVICE_SUBNET FAMILIES
//   node scripts/e2e/manifests.js inject-unknown-field SRC_DIR DST_DIR FIELD [KIND]
//   node scripts/e2e/manifests.js extract DIR APIVERSION KIND NAME OUT_FILE
//
// Exit status: 0 on success, 1 on a failed check (reason on stderr), 2 on usage error.
'use strict';

const fs = require('fs');
const path = require('path');
const YAML = require('yaml');
const ipaddr = require('ipaddr.js');

/** Top-level *.yaml / *.yml files of dir (not recursive), in lexical order, as kubectl reads them. */
function manifestFiles(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => path.join(dir, e.name))
    .sort();
}

/** Parse a multi-document YAML string into plain objects, skipping empty documents. */
function parseDocuments(text, source = '<input>') {
  return YAML.parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) {
      throw new Error(`${source}: ${doc.errors[0].message}`);
    }
    const obj = doc.toJS();
    return obj === null || obj === undefined ? [] : [obj];
  });
}

/** All Kubernetes objects of the top-level YAML files of dir. */
function loadObjects(dir) {
  return manifestFiles(dir).flatMap((file) =>
    parseDocuments(fs.readFileSync(file, 'utf8'), file).map((obj) => ({ file, obj })),
  );
}

function describe(obj) {
  const ns = obj.metadata && obj.metadata.namespace ? `${obj.metadata.namespace}/` : '';
  return `${obj.apiVersion} ${obj.kind} ${ns}${obj.metadata && obj.metadata.name}`;
}

function findObject(dir, apiVersion, kind, name) {
  const hits = loadObjects(dir).filter(
    ({ obj }) => obj.apiVersion === apiVersion && obj.kind === kind && obj.metadata && obj.metadata.name === name,
  );
  if (hits.length !== 1) {
    throw new Error(`expected exactly one ${apiVersion} ${kind} ${name} in ${dir}, found ${hits.length}`);
  }
  return hits[0];
}

/** Deep structural comparison; returns a list of human-readable differences (empty when equal). */
function diffValues(want, got, at = '') {
  const here = at || '.';
  if (Array.isArray(want) || Array.isArray(got)) {
    if (!Array.isArray(want) || !Array.isArray(got)) {
      return [`${here}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`];
    }
    const out = [];
    if (want.length !== got.length) {
      out.push(`${here}: want ${want.length} items, got ${got.length}`);
    }
    for (let i = 0; i < Math.min(want.length, got.length); i += 1) {
      out.push(...diffValues(want[i], got[i], `${at}[${i}]`));
    }
    return out;
  }
  const isObj = (v) => v !== null && typeof v === 'object';
  if (isObj(want) || isObj(got)) {
    if (!isObj(want) || !isObj(got)) {
      return [`${here}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`];
    }
    const out = [];
    const keys = [...new Set([...Object.keys(want), ...Object.keys(got)])].sort();
    for (const k of keys) {
      if (!(k in got)) {
        out.push(`${at}.${k}: pruned (want ${JSON.stringify(want[k])})`);
      } else if (!(k in want)) {
        out.push(`${at}.${k}: added by the server (got ${JSON.stringify(got[k])})`);
      } else {
        out.push(...diffValues(want[k], got[k], `${at}.${k}`));
      }
    }
    return out;
  }
  return want === got ? [] : [`${here}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`];
}

/** Differences of want (from dist) that got (stored) lost or changed; fields the server added are ignored. */
function droppedFields(want, got) {
  return diffValues(want, got).filter((d) => !d.includes(': added by the server'));
}

/** Split a kind serviceSubnet ("10.96.0.0/16,fd00:10:96::/112") into {ipv4, ipv6} CIDR strings. */
function splitServiceSubnet(subnet) {
  const out = {};
  for (const cidr of String(subnet).split(',').map((s) => s.trim()).filter(Boolean)) {
    const [addr] = ipaddr.parseCIDR(cidr);
    const family = addr.kind(); // 'ipv4' | 'ipv6'
    if (out[family]) {
      throw new Error(`serviceSubnet ${subnet} has two ${family} ranges`);
    }
    out[family] = cidr;
  }
  return out;
}

/** kind's networking.ipFamily (kind's default, "ipv4", when absent). */
function ipFamilyOf(kindConfigText) {
  const cfg = YAML.parse(kindConfigText);
  return String((cfg && cfg.networking && cfg.networking.ipFamily) || 'ipv4');
}

/** The Services of dir: namespace, name and ipFamilies (comma-separated), in file order. */
function servicesOf(dir) {
  return loadObjects(dir)
    .filter(({ obj }) => obj.apiVersion === 'v1' && obj.kind === 'Service')
    .map(({ obj }) => [obj.metadata.namespace || 'default', obj.metadata.name, (obj.spec.ipFamilies || []).join(',')]);
}

/**
 * The coredns ConfigMap of kube-system in dir, if any: its Corefile, the addresses its `forward .`
 * line names and its dns64 prefix.
 */
function corefileOf(dir) {
  const hit = loadObjects(dir).find(({ obj }) => obj.apiVersion === 'v1' && obj.kind === 'ConfigMap'
    && obj.metadata.name === 'coredns' && obj.metadata.namespace === 'kube-system');
  if (!hit) return null;
  const corefile = String(hit.obj.data.Corefile);
  const forward = /^\s*forward \. (.*?)\s*\{?$/m.exec(corefile);
  const prefix = /^\s*prefix (\S+)$/m.exec(corefile);
  // "[fc00::53]:53" or "10.0.0.53:53" -> the address alone.
  const address = (t) => (t.startsWith('[') ? t.replace(/^\[(.*)\](:\d+)?$/, '$1') : t.replace(/:\d+$/, ''));
  const upstreams = forward ? forward[1].split(/\s+/).map(address) : [];
  return { corefile, upstreams, dns64Prefix: prefix ? prefix[1] : '' };
}

/**
 * kubeadm's own coredns ConfigMap, as `kubeadm init` creates it: the CoreDNSConfigMap template of
 * kubeadm's cmd/kubeadm/app/phases/addons/dns/manifests.go (read from the Go module cache, never
 * copied into this repository) with its DNS domain filled in.
 */
function kubeadmCoreDnsConfigMap(manifestsGo, dnsDomain) {
  const source = fs.readFileSync(manifestsGo, 'utf8');
  const m = /CoreDNSConfigMap = `([^`]*)`/.exec(source);
  if (!m) throw new Error(`no CoreDNSConfigMap template in ${manifestsGo}`);
  const rendered = m[1].replace(/\{\{ \.DNSDomain \}\}/g, dnsDomain);
  if (/\{\{/.test(rendered)) throw new Error(`unexpected template field in kubeadm's CoreDNSConfigMap: ${rendered}`);
  return rendered;
}

function serviceSubnetOf(kindConfigText) {
  const cfg = YAML.parse(kindConfigText);
  const subnet = cfg && cfg.networking && cfg.networking.serviceSubnet;
  if (!subnet) {
    throw new Error('kind config has no networking.serviceSubnet');
  }
  return String(subnet);
}

/**
 * Check that a Service's clusterIPs are exactly one per expected family, in
 * order, each inside that family's service range. Returns a list of problems.
 */
function checkClusterIPs(svc, serviceSubnet, families) {
  const ranges = splitServiceSubnet(serviceSubnet);
  const ips = (svc.spec && svc.spec.clusterIPs) || [];
  const problems = [];
  if (ips.length !== families.length) {
    problems.push(`want ${families.length} clusterIPs (${families.join(',')}), got ${JSON.stringify(ips)}`);
  }
  families.forEach((family, i) => {
    const ip = ips[i];
    if (ip === undefined) return;
    const fam = family.toLowerCase();
    if (!ipaddr.isValid(ip)) {
      problems.push(`clusterIPs[${i}] ${ip} is not an IP address`);
      return;
    }
    const addr = ipaddr.parse(ip);
    if (addr.kind() !== fam) {
      problems.push(`clusterIPs[${i}] ${ip} is ${addr.kind()}, want ${fam}`);
      return;
    }
    if (!ranges[fam]) {
      problems.push(`no ${fam} service range in ${serviceSubnet}`);
      return;
    }
    if (!addr.match(ipaddr.parseCIDR(ranges[fam]))) {
      problems.push(`clusterIPs[${i}] ${ip} is outside the ${fam} service range ${ranges[fam]}`);
    }
  });
  const fams = (svc.spec && svc.spec.ipFamilies) || [];
  if (JSON.stringify(fams) !== JSON.stringify(families)) {
    problems.push(`want ipFamilies ${JSON.stringify(families)}, got ${JSON.stringify(fams)}`);
  }
  return problems;
}

/**
 * Copy the top-level manifests of srcDir to dstDir, adding `field: true` to the
 * spec of the first object of `kind` (an IPPool unless named; "apiVersion/Kind"
 * names a group too). Returns the description of the changed object.
 */
function injectUnknownField(srcDir, dstDir, field, kind = 'IPPool') {
  fs.mkdirSync(dstDir, { recursive: true });
  let changed = null;
  for (const file of manifestFiles(srcDir)) {
    const docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'));
    for (const doc of docs) {
      const obj = doc.toJS();
      const matches = obj && (kind.includes('/') ? `${obj.apiVersion}/${obj.kind}` === kind : obj.kind === kind);
      if (!changed && matches && doc.hasIn(['spec'])) {
        doc.setIn(['spec', field], true);
        changed = describe(obj);
      }
    }
    fs.writeFileSync(path.join(dstDir, path.basename(file)), docs.map((d) => d.toString()).join(''));
  }
  if (!changed) {
    throw new Error(`no ${kind} with a spec in ${srcDir}`);
  }
  return changed;
}

function readJSON(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

const commands = {
  'pod-subnet'(kindConfig) {
    const cfg = YAML.parse(fs.readFileSync(kindConfig, 'utf8'));
    const subnet = cfg && cfg.networking && cfg.networking.podSubnet;
    if (!subnet) throw new Error(`${kindConfig} has no networking.podSubnet`);
    return String(subnet);
  },
  'service-subnet'(kindConfig, family = '') {
    const subnet = serviceSubnetOf(fs.readFileSync(kindConfig, 'utf8'));
    if (!family) return subnet;
    const cidr = splitServiceSubnet(subnet)[family];
    if (!cidr) throw new Error(`no ${family} range in serviceSubnet ${subnet}`);
    return cidr;
  },
  'ip-family'(kindConfig) {
    return ipFamilyOf(fs.readFileSync(kindConfig, 'utf8'));
  },
  services(dir) {
    return servicesOf(dir).map((row) => row.join('\t')).join('\n');
  },
  'compare-data'(dir, apiVersion, kind, name, storedFile) {
    const { obj } = findObject(dir, apiVersion, kind, name);
    const problems = diffValues(obj.data, readJSON(storedFile).data);
    if (problems.length > 0) throw new Error(problems.join('\n'));
    return '';
  },
  corefile(dir) {
    const found = corefileOf(dir);
    if (!found) return '';
    return [`upstreams=${found.upstreams.join(' ')}`, `dns64_prefix=${found.dns64Prefix}`].join('\n');
  },
  'kubeadm-coredns-configmap'(manifestsGo, dnsDomain, outFile) {
    const configMap = kubeadmCoreDnsConfigMap(manifestsGo, dnsDomain);
    fs.writeFileSync(outFile, configMap);
    const forward = /^\s*forward \. (\S+)/m.exec(YAML.parse(configMap).data.Corefile);
    return forward ? forward[1] : '(no forward)';
  },
  objects(dir) {
    return loadObjects(dir)
      .map(({ obj }) => {
        const md = obj.metadata || {};
        return [obj.apiVersion, obj.kind, md.namespace || '-', md.name].join('\t');
      })
      .join('\n');
  },
  'compare-spec'(dir, apiVersion, kind, name, storedFile) {
    const { obj } = findObject(dir, apiVersion, kind, name);
    const problems = diffValues(obj.spec, readJSON(storedFile).spec);
    if (problems.length > 0) throw new Error(problems.join('\n'));
    return '';
  },
  'dropped-fields'(dir, apiVersion, kind, name, storedFile) {
    const { obj } = findObject(dir, apiVersion, kind, name);
    const stored = readJSON(storedFile);
    // Annotations include kubectl's last-applied-configuration; compare what dist wrote.
    const problems = droppedFields(obj, stored);
    if (problems.length > 0) throw new Error(problems.join('\n'));
    return '';
  },
  'check-cluster-ips'(svcFile, serviceSubnet, families) {
    const svc = readJSON(svcFile);
    const problems = checkClusterIPs(svc, serviceSubnet, families.split(','));
    if (problems.length > 0) throw new Error(problems.join('\n'));
    return svc.spec.clusterIPs.join(',');
  },
  'inject-unknown-field'(srcDir, dstDir, field, kind = 'IPPool') {
    return injectUnknownField(srcDir, dstDir, field, kind);
  },
  extract(dir, apiVersion, kind, name, outFile) {
    const { obj } = findObject(dir, apiVersion, kind, name);
    fs.writeFileSync(outFile, YAML.stringify(obj));
    return outFile;
  },
};

function main(argv) {
  const [cmd, ...args] = argv;
  const fn = commands[cmd];
  if (!fn || args.length < fn.length) {
    process.stderr.write(`usage: manifests.js ${Object.keys(commands).join('|')} ARGS... (see header)\n`);
    return 2;
  }
  try {
    const out = fn(...args);
    if (out) process.stdout.write(`${out}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    return 1;
  }
}

module.exports = {
  manifestFiles,
  parseDocuments,
  loadObjects,
  diffValues,
  droppedFields,
  splitServiceSubnet,
  serviceSubnetOf,
  ipFamilyOf,
  servicesOf,
  corefileOf,
  kubeadmCoreDnsConfigMap,
  checkClusterIPs,
  injectUnknownField,
};

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
