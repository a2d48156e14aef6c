// Baseline server: bare uWebSockets.js topics, the per-message ceiling of Rotor's design.
// Text protocol (client → server):  "S <topic>" subscribes and is answered "ok";
// "P <topic> <payload>" publishes <payload> to the native topic, one frame per message.
// argv[2]: maxBackpressure in bytes.
import { loadNativeUws } from '../../lib/uws.ts';
import { exitWithParent, reportReady } from '../../lib/child-server.ts';

const uws = loadNativeUws();
const maxBackpressure = Number(process.argv[2] ?? 4 * 1024 * 1024);
const SPACE = 0x20;
const app = uws.App();

app.ws('/*', {
  maxPayloadLength: 16 * 1024 * 1024,
  maxBackpressure,
  compression: uws.DISABLED,
  message: (ws, message, isBinary) => {
    const bytes = new Uint8Array(message);
    if (bytes.length < 3 || bytes[1] !== SPACE) return;
    if (bytes[0] === 0x50 /* P */) {
      const sp = bytes.indexOf(SPACE, 2);
      if (sp < 0) return;
      app.publish(new Uint8Array(message, 2, sp - 2), new Uint8Array(message, sp + 1), isBinary);
    } else if (bytes[0] === 0x53 /* S */) {
      ws.subscribe(new Uint8Array(message, 2));
      ws.send('ok', false);
    }
  },
});

app.listen('127.0.0.1', 0, (token) => {
  if (!token) {
    process.send?.({ type: 'error', error: 'uWS listen failed' });
    process.exit(1);
  }
  const listenSocket = token;
  exitWithParent(() => uws.us_listen_socket_close(listenSocket));
  reportReady(uws.us_socket_local_port(listenSocket));
});
