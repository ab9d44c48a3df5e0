// Validate many glb/gltf files with the Khronos glTF validator in one node process.
// Usage: node gltf_validate.mjs < paths.json   (a JSON array of file paths)
// Prints a JSON array of {path, numErrors, numWarnings, numInfos, errors: [{code, message, pointer}]}.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const modulesDir = process.env.CIM_NODE_MODULES || path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../node_modules");
const validator = require(path.join(modulesDir, "gltf-validator"));

const paths = JSON.parse(readFileSync(0, "utf8"));
const results = [];
for (const file of paths) {
  try {
    const bytes = new Uint8Array(readFileSync(file));
    const report = await validator.validateBytes(bytes, {
      uri: path.basename(file),
      maxIssues: 200,
      externalResourceFunction: (uri) =>
        new Promise((resolve, reject) => {
          try { resolve(new Uint8Array(readFileSync(path.resolve(path.dirname(file), decodeURIComponent(uri))))); }
          catch (error) { reject(error.toString()); }
        }),
    });
    const issues = report.issues;
    results.push({
      path: file,
      numErrors: issues.numErrors,
      numWarnings: issues.numWarnings,
      numInfos: issues.numInfos,
      errors: issues.messages.filter((m) => m.severity === 0).slice(0, 20),
      warnings: issues.messages.filter((m) => m.severity === 1).slice(0, 20),
    });
  } catch (error) {
    results.push({ path: file, numErrors: 1, numWarnings: 0, numInfos: 0, errors: [{ code: "VALIDATOR_CRASH", message: String(error) }], warnings: [] });
  }
}
process.stdout.write(JSON.stringify(results));
