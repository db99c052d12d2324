// Drive the example lamp with Eclipse Thingweb node-wot, as any W3C WoT consumer would:
//
//   cd examples/node-wot && npm ci
//   node lamp.js http://localhost:8888/.well-known/wot
"use strict";

const { Servient } = require("@node-wot/core");
const { HttpClientFactory } = require("@node-wot/binding-http");

async function main(url) {
  const servient = new Servient();
  servient.addClientFactory(new HttpClientFactory(null));
  const WoT = await servient.start();
  const lamp = await WoT.consume(await WoT.requestThingDescription(url));

  console.log("brightness is", await (await lamp.readProperty("brightness")).value());
  await lamp.writeProperty("brightness", 42);
  console.log("brightness is", await (await lamp.readProperty("brightness")).value());

  // Notifications arrive over Server-Sent Events until the subscriptions stop.
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  const observation = await lamp.observeProperty("brightness", async (value) => {
    console.log("brightness changed to", await value.value());
  });
  const subscription = await lamp.subscribeEvent("overheated", async (value) => {
    console.log("overheated:", await value.value());
    done();
  });
  await lamp.invokeAction("fade", { brightness: 90, duration: 50 }); // ends with "overheated"
  await finished;

  await observation.stop();
  await subscription.stop();
  await servient.shutdown();
}

main(process.argv[2] || "http://localhost:8888/.well-known/wot").then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
