// Validate Kubernetes manifests without a cluster:
//  1. kubernetes-models' validators, generated from the Kubernetes OpenAPI
//     schema: types, required fields, enums, formats;
//  2. no field Kubernetes does not know (what kubectl's strict field
//     validation rejects), walking @kubernetes/client-node's model maps.
// node validate.mjs FILE...      exit 1 and one line per problem if any
// node validate.mjs --json FILE  print the documents as a JSON array
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import * as k8s from "@kubernetes/client-node";
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet";

const models = { "apps/v1 DaemonSet": [DaemonSet, "V1DaemonSet"] };

function unknownFields(obj, type, path, out) {
  if (obj === null || obj === undefined) return;
  let m;
  if ((m = /^Array<(.+)>$/.exec(type))) {
    if (Array.isArray(obj)) obj.forEach((v, i) => unknownFields(v, m[1], `${path}[${i}]`, out));
    return;
  }
  if ((m = /^\{ \[key: string\]: (.+); \}$/.exec(type))) {
    for (const [key, v] of Object.entries(obj)) unknownFields(v, m[1], `${path}.${key}`, out);
    return;
  }
  const cls = k8s[type];
  if (!cls || typeof cls.getAttributeTypeMap !== "function" || typeof obj !== "object") return;
  const attrs = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, v] of Object.entries(obj)) {
    if (!attrs.has(key)) out.push(`${path}.${key}: unknown field (not in ${type})`);
    else unknownFields(v, attrs.get(key), `${path}.${key}`, out);
  }
}

const args = process.argv.slice(2);
const asJson = args[0] === "--json";
const files = asJson ? args.slice(1) : args;
const all = [];
let problems = 0;
for (const file of files) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length) {
      console.log(`${file}: YAML: ${doc.errors[0].message}`);
      problems++;
      continue;
    }
    const obj = doc.toJS();
    if (!obj) continue;
    all.push(obj);
    const id = `${obj.apiVersion} ${obj.kind}`;
    const model = models[id];
    if (!model) {
      console.log(`${file}: ${id}: no schema known to this validator`);
      problems++;
      continue;
    }
    const found = [];
    try {
      new model[0](obj).validate();
    } catch (e) {
      found.push(e.message);
    }
    unknownFields(obj, model[1], "", found);
    for (const f of found) console.log(`${file}: ${id} ${obj.metadata?.name}: ${f}`);
    problems += found.length;
  }
}
if (asJson) console.log(JSON.stringify(all));
process.exitCode = problems ? 1 : 0;
