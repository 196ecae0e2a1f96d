'use strict';
// ACL 1.0 interop check with the npm client ali-ons 3.12.0 (pure JavaScript, remoting protocol).
// ali-ons signs every request itself (lib/channel.js beforeRequest) when the client options carry
// accessKeyId/accessKeySecret: HMAC-SHA1 over AccessKey, OnsChannel ("ALIYUN") and the header
// fields in key order, then the body.
//
// Three cases against a broker running with aclEnable=true:
//   allowed  ACL_AK/ACL_SK sends N messages to TOPIC and a push consumer (same account) gets
//            every one of them back, and none of the refused messages below (sent first);
//   badsig   the same account with a wrong secret: the send fails and the broker's answer is
//            NO_PERMISSION (16) saying the signature check failed (producer.send() itself only
//            says "Send [n] times, still failed": the answers are recorded below it);
//   nopub    ACL_NOPUB_AK/ACL_NOPUB_SK (no PUB on TOPIC): the send fails with NO_PERMISSION
//            naming that account and the missing PUB permission.
//
// Env:
//   NAMESRV_ADDR   name server (default 127.0.0.1:9876)
//   TOPIC          an existing topic (default AclAliOns; ali-ons does not auto-create topics, and
//                  only an admin account may create one, so create it beforehand)
//   N              messages in the allowed case (default 20)
//   TIMEOUT_S      overall time box (default 60)
//   ACL_AK, ACL_SK               the allowed account (default onsuser / ons-secret)
//   ACL_NOPUB_AK, ACL_NOPUB_SK   the account without PUB (default onsreader / reader-secret)
//   ONS_VERBOSE=1  log client internals
// Prints one `PASS ali-ons-acl ...` or `FAIL ali-ons-acl: ...` line; exit status 0 on PASS.
const { Producer, Consumer, Message } = require('ali-ons');

const NAMESRV = process.env.NAMESRV_ADDR || '127.0.0.1:9876';
const TOPIC = process.env.TOPIC || 'AclAliOns';
const N = parseInt(process.env.N || '20', 10);
const TIMEOUT_S = parseInt(process.env.TIMEOUT_S || '60', 10);
const AK = process.env.ACL_AK || 'onsuser';
const SK = process.env.ACL_SK || 'ons-secret';
const NOPUB_AK = process.env.ACL_NOPUB_AK || 'onsreader';
const NOPUB_SK = process.env.ACL_NOPUB_SK || 'reader-secret';
const RUN = `${Date.now().toString(36)}x${process.pid}`;
const started = Date.now();
const deadline = started + TIMEOUT_S * 1000 - 3000;

const log = process.env.ONS_VERBOSE ? console : {
  info() {}, debug() {}, warn() {}, error() {},
};
// ali-ons insists on an httpclient even with a fixed name server; it is never called then.
const httpclient = { request: async () => { throw new Error('no httpclient: nameSrv is set'); } };
const sleep = ms => new Promise(r => setTimeout(r, ms));
const secs = () => ((Date.now() - started) / 1000).toFixed(1);

const notes = [];
const clients = [];
function finish(ok, text) {
  console.log(ok ? `PASS ali-ons-acl ${text} (${secs()}s)` : `FAIL ali-ons-acl: ${text} (${secs()}s)`);
  process.exit(ok ? 0 : 1);
}
setTimeout(() => finish(false, `hard timeout ${TIMEOUT_S}s; so far: ${notes.join('; ') || 'nothing done'}`),
  TIMEOUT_S * 1000).unref();

// ali-ons keeps one MQClient (and its connections, which carry the credentials) per clientId,
// i.e. per instanceName: every account below gets its own instanceName, or the second producer
// would silently sign with the first one's keys.
function producer(name, accessKeyId, accessKeySecret) {
  const p = new Producer({
    httpclient, nameSrv: NAMESRV, logger: log, instanceName: `acl_${name}_${RUN}`,
    producerGroup: `PID_acl_${name}_${RUN}`, accessKeyId, accessKeySecret,
    sendMsgTimeout: 3000,
  });
  p.on('error', e => log.warn(`[${name}] producer error: ${e.message}`));
  // producer.send() turns a NO_PERMISSION answer into a bare "Send [n] times, still failed"
  // error; record what the broker actually said on each attempt.
  p.brokerAnswers = [];
  const kernel = p.sendKernelImpl.bind(p);
  p.sendKernelImpl = async (msg, mq) => {
    try {
      return await kernel(msg, mq);
    } catch (e) {
      p.brokerAnswers.push({ code: e.code, message: e.message });
      throw e;
    }
  };
  clients.push(p);
  return p;
}

function message(tag, i) {
  const msg = new Message(TOPIC, tag, `${RUN}|${tag}|${i}`);
  msg.keys = [ `acl-${RUN}-${i}` ];
  return msg;
}

// The topic must be routable before anything is sent; the name server does not check ACL.
async function waitForRoute(p) {
  let last;
  while (Date.now() < deadline) {
    try {
      const route = await p._mqClient.getTopicRouteInfoFromNameServer(TOPIC, 3000);
      if (route && route.queueDatas && route.queueDatas.length) return;
      last = 'empty route';
    } catch (e) {
      last = e.message;
    }
    await sleep(500);
  }
  throw new Error(`no route for topic ${TOPIC} (create it first, as an admin account): ${last}`);
}

async function allowed() {
  const p = producer('ok', AK, SK);
  await p.ready();
  await waitForRoute(p);
  for (let i = 0; i < N; i++) {
    let r;
    try {
      r = await p.send(message('TagAcl', i));
    } catch (e) {
      const why = p.brokerAnswers.length ? JSON.stringify(p.brokerAnswers[p.brokerAnswers.length - 1]) : '';
      throw new Error(`allowed account ${AK}: send #${i} failed: ${e.message} ${why}`);
    }
    if (r.sendStatus !== 'SEND_OK') throw new Error(`allowed account ${AK}: send #${i} status ${r.sendStatus}`);
  }
  notes.push(`${AK} sent ${N}`);

  const consumer = new Consumer({
    httpclient, nameSrv: NAMESRV, logger: log, instanceName: `acl_sub_${RUN}`,
    consumerGroup: `GID_acl_${RUN}`, accessKeyId: AK, accessKeySecret: SK,
    consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET',
    brokerSuspendMaxTimeMillis: 2000, consumerTimeoutMillisWhenSuspend: 10000,
    rebalanceInterval: 2000, persistConsumerOffsetInterval: 2000,
  });
  const consumerErrors = [];
  consumer.on('error', e => consumerErrors.push(e.message));
  clients.push(consumer);
  const got = new Set();
  const refusedSeen = [];
  let gotAll;
  const all = new Promise(r => { gotAll = r; });
  consumer.subscribe(TOPIC, 'TagAcl', async msg => {
    const [ run, , i ] = (msg.body || '').toString().split('|');
    if (run !== RUN) return; // earlier runs on the same topic
    if (i.startsWith('refused-')) refusedSeen.push(i);
    else got.add(i);
    if (got.size >= N) gotAll();
  });
  await consumer.ready();
  await Promise.race([ all, sleep(Math.max(1000, deadline - Date.now())) ]);
  await sleep(1000); // stray deliveries
  if (got.size !== N) {
    throw new Error(`allowed account ${AK}: consumed ${got.size}/${N}` +
      (consumerErrors.length ? `; consumer error: ${consumerErrors[0]}` : ''));
  }
  if (refusedSeen.length) throw new Error(`refused messages were stored: ${refusedSeen.join(', ')}`);
  notes.push(`consumed ${N}, none of the refused`);
}

// A send that must be refused: it fails, and (one of) the broker's answers is NO_PERMISSION
// with a remark matching `want`.
async function refused(name, accessKeyId, accessKeySecret, want, what) {
  const p = producer(name, accessKeyId, accessKeySecret);
  await p.ready();
  await waitForRoute(p);
  let sent;
  try {
    sent = await p.send(message('TagAcl', `refused-${name}`));
  } catch (e) {
    const answer = p.brokerAnswers.find(a => a.code === 16 && want.test(a.message));
    if (!answer) {
      throw new Error(`${what}: send failed (${e.message}) but no NO_PERMISSION answer matching ` +
        `${want}; broker said ${JSON.stringify(p.brokerAnswers)}`);
    }
    notes.push(`${what} refused: code ${answer.code} "${answer.message}"`);
    return;
  }
  throw new Error(`${what}: the send was accepted (${sent.sendStatus} ${sent.msgId})`);
}

async function main() {
  // The refused sends come first: the consumer of the allowed case must not see them.
  const ak = AK.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  await refused('badsig', AK, `${SK}-wrong`,
    new RegExp(`signature check failed for accessKey=${ak}\\b`), `wrong secret for ${AK}`);
  const nopub = NOPUB_AK.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  await refused('nopub', NOPUB_AK, NOPUB_SK,
    new RegExp(`accessKey=${nopub} has no PUB permission on topic ${TOPIC}\\b`), `${NOPUB_AK} without PUB`);
  await allowed();
  await Promise.all(clients.map(c => c.close().catch(() => {})));
  finish(true, [ ...notes.slice(2), ...notes.slice(0, 2) ].join('; '));
}

main().catch(e => finish(false, `${e && e.message || e}; so far: ${notes.join('; ') || 'nothing done'}`));
