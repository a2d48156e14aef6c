// Control commands from the ControlBus (server API disconnect / unsubscribe / subscribe / refresh,
// delivered to every node) and this node's figures for info and channels.
import { Disconnects, Unsubscribes } from '@rotor/core';
import type { ConnectionTarget, ControlCommand, ControlHandler, NodeInfo } from '@rotor/core';
import type { GatewayContext } from './context.ts';
import { JoinOutcome } from './hub.ts';
import { SessionState } from './session.ts';
import type { Session } from './session.ts';
import { SubscribeCancelled, establish, prepare, removeSubscription, unsubscribeWithPush } from './commands/establish.ts';
import { serverSideSubscription } from './commands/connect.ts';
import { SubFlag } from './subscription.ts';

export class GatewayControl implements ControlHandler {
  constructor(private readonly gw: GatewayContext) {}

  onCommand(cmd: ControlCommand): void {
    if (this.gw.closed) return;
    try {
      switch (cmd.kind) {
        case 'disconnect': {
          const keep = cmd.whitelist !== undefined && cmd.whitelist.length > 0 ? new Set(cmd.whitelist) : null;
          for (const s of this.targets(cmd)) if (keep === null || !keep.has(s.client)) s.disconnect(cmd.disconnect);
          break;
        }
        case 'unsubscribe':
          for (const s of this.targets(cmd)) {
            const sub = s.subscription(cmd.channel);
            if (sub !== undefined && sub.has(SubFlag.established)) {
              unsubscribeWithPush(s, sub, Unsubscribes.server.code, Unsubscribes.server.reason);
            }
          }
          break;
        case 'subscribe':
          for (const s of this.targets(cmd)) {
            this.subscribe(s, cmd).catch((err: unknown) => {
              if (!(err instanceof SubscribeCancelled)) this.gw.log.warn('server-side subscribe failed', { error: String(err) });
            });
          }
          break;
        case 'refresh':
          for (const s of this.targets(cmd)) this.refresh(s, cmd);
          break;
      }
    } catch (err) {
      this.gw.log.error('control command failed', { kind: cmd.kind, error: String(err) });
    }
  }

  /** Connected sessions a command addresses (WebSocket sessions have no session id). */
  private targets(t: ConnectionTarget): Session[] {
    if (t.session !== undefined && t.session !== '') return [];
    if (t.client !== undefined && t.client !== '') {
      const s = this.gw.clients.get(t.client);
      return s !== undefined && s.user === t.user && s.state === SessionState.connected ? [s] : [];
    }
    return this.gw.userSessions(t.user).filter((s) => s.state === SessionState.connected);
  }

  private async subscribe(s: Session, cmd: Extract<ControlCommand, { kind: 'subscribe' }>): Promise<void> {
    const gw = this.gw;
    if (s.subscription(cmd.channel) !== undefined) return;
    if (s.subscriptionCount >= gw.config.client.channelLimit) {
      gw.log.info('server-side subscribe over the channel limit ignored', { client: s.client });
      return;
    }
    const resolved = gw.rules.resolve(cmd.channel);
    if (!resolved.ok) {
      gw.log.info('server-side subscribe to an invalid channel ignored', { code: resolved.error.code });
      return;
    }
    const sub = serverSideSubscription(s, cmd.channel, resolved.channel.namespace, {
      info: cmd.info,
      data: cmd.data,
      override: cmd.override,
    });
    sub.expireAt = cmd.expireAt !== undefined && cmd.expireAt > 0 ? cmd.expireAt * 1000 : 0;
    s.addSubscription(sub);
    const recover = sub.has(SubFlag.recoverable) && cmd.recoverSince !== undefined ? cmd.recoverSince : null;
    let prepared;
    try {
      prepared = await prepare(s, sub, { recover, rejectUnrecovered: false, data: cmd.data });
    } catch (err) {
      if (!s.closed) removeSubscription(s, sub, true);
      throw err;
    }
    if (s.closed || s.subscription(cmd.channel) !== sub) return;
    const r = prepared.result;
    s.push({
      channel: cmd.channel,
      subscribe: { recoverable: r.recoverable, epoch: r.epoch, offset: r.offset, positioned: r.positioned, data: r.data },
    });
    // Recovered publications follow the Subscribe push as ordinary publication pushes.
    if (r.publications !== undefined) for (const pub of r.publications) s.push({ channel: cmd.channel, pub });
    s.flushOut();
    if (establish(s, sub, prepared) === JoinOutcome.insufficient && !s.closed) s.disconnect(Disconnects.insufficientState);
  }

  private refresh(s: Session, cmd: Extract<ControlCommand, { kind: 'refresh' }>): void {
    if (cmd.expired) {
      s.disconnect(Disconnects.expired);
      return;
    }
    s.expireAt = cmd.expireAt !== undefined && cmd.expireAt > 0 ? cmd.expireAt * 1000 : 0;
    if (cmd.info !== undefined) s.connInfo = cmd.info;
    this.gw.keepalive.expiryChanged(s);
    s.refreshed();
  }

  nodeInfo(): NodeInfo {
    const gw = this.gw;
    return {
      uid: gw.nodeId,
      name: gw.config.rotor.nodeName,
      version: gw.version,
      numClients: gw.clients.size,
      numUsers: gw.users.size,
      numSubs: gw.metrics.subscriptions,
      numChannels: gw.hub.channels.size,
      uptimeSeconds: Math.floor((gw.clock.now() - gw.startedAt) / 1000),
    };
  }

  channels(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, ch] of this.gw.hub.channels) {
      const n = ch.subscribers;
      if (n > 0) out.set(name, n);
    }
    return out;
  }
}
