// The official JavaScript SDK (npm package "imaginepro") against flux-mock in a container (README "Container").
// NOT run in CI. Usage, with the container from `docker run --rm -p 8080:8080 flux-mock` answering:
//   npm install imaginepro && IMAGINEPRO_BASE_URL=http://127.0.0.1:8080 node examples/container/sdk.cjs
const { ImagineProSDK } = require("imaginepro");

const sdk = new ImagineProSDK({
  apiKey: process.env.IMAGINEPRO_API_KEY || "sk-test", // the mock takes any non-empty key unless given --api-key
  baseUrl: process.env.IMAGINEPRO_BASE_URL || "http://127.0.0.1:8080",
  fetchInterval: 500, // ms between polls (the SDK's default is 2000)
  defaultTimeout: 60000,
});

(async () => {
  const created = await sdk.imagine({ prompt: "a red fox in the snow" });
  const message = await sdk.fetchMessage(created.messageId);
  console.log(`${message.status}: ${message.uri}`);
  if (message.status !== "DONE") process.exit(1);
  const image = await fetch(message.uri);
  console.log(`downloaded ${(await image.arrayBuffer()).byteLength} bytes of ${image.headers.get("content-type")}`);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
