// What the WebThings gateway does with an action request before it reaches the device:
// gateway-addon's Device.requestAction validates the input with `new Ajv()` (Ajv 8, strict
// mode on by default), compiling the action's `input` schema from the WebThings TD.
//
//   node gateway-ajv.js < request.json
//
// The request is {"td": <WebThings TD>, "inputs": {<action>: <input>, ...}}. Prints one JSON
// object: for each action either {"valid": true|false} or {"error": "<why Ajv refused it>"}.
"use strict";

const Ajv = require("ajv");

function main(text) {
  const { td, inputs } = JSON.parse(text);
  const ajv = new Ajv();
  const result = {};
  for (const [name, input] of Object.entries(inputs)) {
    const metadata = (td.actions || {})[name];
    if (!metadata) {
      result[name] = { error: `no action ${name}` };
      continue;
    }
    try {
      result[name] = { valid: "input" in metadata ? ajv.validate(metadata.input, input) : true };
    } catch (error) {
      result[name] = { error: error.message };
    }
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

let text = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (text += chunk));
process.stdin.on("end", () => main(text));
