#!/usr/bin/env node
/**
 * Reads a lab's facts (<dist>/lab/facts.json, written by `cdk8s synth`; schema: lab.facts.schema.json)
 * and prints them as one bash assignment for the scripts to eval (scripts/lib/common.sh lab_load_facts):
 *
 *   declare -gA LAB_FACTS=(['name']='ipv6-lab' ['cluster.nodes.length']='3' ['cluster.nodes.0.name']='...' ...)
 *
 * Keys are dotted paths (list items by index, `<list>.length` for each list's length); every value is a
 * string, single-quoted for the shell (true/false for booleans). Plain Node.js, no dependencies: the
 * scripts run it once per run, also where `npm ci` was never run.
 *
 * Usage: node scripts/lab-facts.js FILE     (exit 1 with one line on stderr when FILE cannot be used)
 */
'use strict';
const fs = require('fs');

/** The newest facts format these scripts understand (lib/lab-facts.ts FACTS_VERSION). */
const SUPPORTED_VERSION = 1;

function quote(value) {
  return `'${String(value).replace(/'/g, `'\\''`)}'`;
}

/** [key, value] pairs of every scalar and every list length under `value`, in document order. */
function flatten(value, prefix = '', out = []) {
  if (Array.isArray(value)) {
    out.push([`${prefix}.length`, value.length]);
    value.forEach((v, i) => flatten(v, `${prefix}.${i}`, out));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.push([prefix, value === null ? '' : value]);
  }
  return out;
}

function read(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the lab's facts ${file}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  let facts;
  try {
    facts = JSON.parse(text);
  } catch (e) {
    throw new Error(`the lab's facts ${file} are not valid JSON (${e.message})`);
  }
  if (facts === null || typeof facts !== 'object' || Array.isArray(facts) || !Number.isInteger(facts.factsVersion)) {
    throw new Error(`${file} holds no lab facts (no factsVersion)`);
  }
  if (facts.factsVersion > SUPPORTED_VERSION) {
    throw new Error(`${file} has factsVersion ${facts.factsVersion}; these scripts read version ${SUPPORTED_VERSION} at most (a newer synth wrote it)`);
  }
  return facts;
}

function main(argv) {
  if (argv.length !== 1) {
    process.stderr.write('usage: node scripts/lab-facts.js FILE\n');
    return 2;
  }
  let facts;
  try {
    facts = read(argv[0]);
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    return 1;
  }
  const pairs = flatten(facts).map(([k, v]) => `[${quote(k)}]=${quote(v)}`);
  process.stdout.write(`declare -gA LAB_FACTS=(${pairs.join(' ')})\n`);
  return 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}

module.exports = { SUPPORTED_VERSION, flatten, quote };
