// A stock Eclipse Thingweb node-wot consumer: fetches a thing's TD as published and drives it.
//
//   node consume.js http://127.0.0.1:8888/ [TOKEN]
//
// With a TOKEN, node-wot sends it as the bearer credential the TD's securityDefinitions ask
// for (Authorization: Bearer TOKEN), and the SSE observations are left out: node-wot 0.9
// opens its EventSource with no headers, so it cannot authenticate them.
//
// Reads, reads all, writes, observes a property (SSE), subscribes to an event (SSE) and
// invokes an action, then prints one JSON object with everything it received. Exits 1
// with {"error": ...} on any failure, or when notifications do not arrive in time.
"use strict";

const { Servient } = require("@node-wot/core");
const { HttpClientFactory } = require("@node-wot/binding-http");

const TIMEOUT_MS = 15000;

function until(condition, what) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (condition()) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > TIMEOUT_MS) {
        clearInterval(timer);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, 20);
  });
}

async function main(url, token) {
  const servient = new Servient();
  servient.addClientFactory(new HttpClientFactory(null));
  const WoT = await servient.start();
  const out = {};

  const td = await WoT.requestThingDescription(url);
  if (token) servient.addCredentials({ [td.id]: { token } });
  const thing = await WoT.consume(td);
  out.title = thing.getThingDescription().title;
  out.id = thing.getThingDescription().id;

  out.read = await (await thing.readProperty("brightness")).value();
  out.readAll = {};
  for (const [name, output] of await thing.readAllProperties()) {
    out.readAll[name] = await output.value();
  }

  await thing.writeProperty("brightness", 42);
  out.readAfterWrite = await (await thing.readProperty("brightness")).value();

  if (token) {
    await thing.writeProperty("brightness", 55);
    const result = await thing.invokeAction("fade", { brightness: 90, duration: 50 });
    out.invoked = JSON.parse(Buffer.from(await result.arrayBuffer()).toString());
    const deadline = Date.now() + TIMEOUT_MS;
    while ((await (await thing.readProperty("brightness")).value()) !== 90) {
      if (Date.now() > deadline) throw new Error("the fade did not finish");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } else {
    out.observed = [];
    const observation = await thing.observeProperty("brightness", async (data) => {
      out.observed.push(await data.value());
    });
    out.events = [];
    const subscription = await thing.subscribeEvent("overheated", async (data) => {
      out.events.push(await data.value());
    });

    await thing.writeProperty("brightness", 55);
    const result = await thing.invokeAction("fade", { brightness: 90, duration: 50 });
    out.invoked = JSON.parse(Buffer.from(await result.arrayBuffer()).toString());

    await until(() => out.observed.includes(55) && out.observed.includes(90), "observed values");
    await until(() => out.events.length > 0, "the overheated event");

    await observation.stop();
    await subscription.stop();
  }
  out.readAtEnd = await (await thing.readProperty("brightness")).value();
  await servient.shutdown();
  return out;
}

main(process.argv[2], process.argv[3])
  .then((out) => {
    process.stdout.write(JSON.stringify(out) + "\n");
    process.exit(0);
  })
  .catch((err) => {
    process.stdout.write(JSON.stringify({ error: String(err && err.stack ? err.stack : err) }) + "\n");
    process.exit(1);
  });
