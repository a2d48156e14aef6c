import { startTestGateway, token } from '../test/harness.ts';
console.log('importing');
const g = await startTestGateway({});
console.log('started', g.url);
await g.close();
console.log('closed');
