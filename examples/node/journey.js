// A partner bank's journey against sanzhi over gRPC, from Node, with the
// protos of the sanzhi proto bundle (`make bundle`) loaded at run time: no
// Go, no generated code. It follows docs/BANK-INTEGRATION.md:
//
//   1. a read without the household's consent is refused
//      (PERMISSION_DENIED, reason CONSENT_REQUIRED, from the error's
//      google.rpc.ErrorInfo);
//   2. the officer records the consent signed at the counter (pending), the
//      village clerk countersigns it (granted);
//   3. the officer assesses the household and reads its line;
//   4. a drawdown, repeated with the same transaction id (replayed), a bad
//      amount refused with the field named (google.rpc.BadRequest), a
//      repayment.
//
// Usage: node journey.js BUNDLE_DIR
// Environment: SANZHI_GRPC (127.0.0.1:7070), SANZHI_BANK_KEY
// (sz_demo_bank_officer), SANZHI_CLERK_KEY (sz_demo_clerk_nanyang),
// SANZHI_VILLAGE (330483102215), SANZHI_PRODUCT
// (banks/tongxiang-rcb/products/sanzhi-xindai). The defaults are the demo
// county's (`sanzhid --demo`), which accepts demo keys from loopback only.
'use strict';

const crypto = require('node:crypto');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const bundle = process.argv[2];
if (!bundle) {
  console.error('usage: node journey.js BUNDLE_DIR (an unpacked sanzhi-proto-*.tar.gz)');
  process.exit(2);
}
const env = (name, def) => process.env[name] || def;
const target = env('SANZHI_GRPC', '127.0.0.1:7070');
const bankKey = env('SANZHI_BANK_KEY', 'sz_demo_bank_officer');
const clerkKey = env('SANZHI_CLERK_KEY', 'sz_demo_clerk_nanyang');
const village = env('SANZHI_VILLAGE', '330483102215');
const product = env('SANZHI_PRODUCT', 'banks/tongxiang-rcb/products/sanzhi-xindai');
const bank = product.split('/products/')[0];

// The services, as plain objects: snake_case fields, enums as names, 64-bit
// integers as strings, every field present.
const def = protoLoader.loadSync(
  ['sanzhi/v1/lending.proto', 'sanzhi/v1/household.proto'],
  { includeDirs: [bundle], keepCase: true, longs: String, enums: String, defaults: true },
);
const v1 = grpc.loadPackageDefinition(def).sanzhi.v1;
// The error model, to read the details of a refusal.
const rpcTypes = new protobuf.Root();
rpcTypes.resolvePath = (_origin, target) => path.join(bundle, target);
rpcTypes.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto']);
const Status = rpcTypes.lookupType('google.rpc.Status');

// A TLS deployment: grpc.credentials.createSsl(ca, key, cert) instead; with
// a client certificate the bank needs no key on the wire.
const creds = grpc.credentials.createInsecure();
const households = new v1.HouseholdService(target, creds);
const consents = new v1.ConsentService(target, creds);
const credit = new v1.CreditService(target, creds);

function call(client, method, key, request) {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${key}`);
  return new Promise((resolve, reject) => {
    client[method](request, md, { deadline: Date.now() + 30_000 }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

// details decodes the google.rpc.Status a sanzhi error carries: its
// ErrorInfo reason and its BadRequest field violations.
function details(err) {
  const out = { reason: '', fields: [] };
  const [raw] = err.metadata ? err.metadata.get('grpc-status-details-bin') : [];
  if (!raw) return out;
  for (const any of Status.decode(raw).details) {
    const type = rpcTypes.lookupType(any.type_url.slice(any.type_url.lastIndexOf('/') + 1));
    const d = type.decode(any.value);
    if (type.fullName === '.google.rpc.ErrorInfo') out.reason = d.reason;
    if (type.fullName === '.google.rpc.BadRequest') out.fields = d.fieldViolations.map((v) => v.field);
  }
  return out;
}

async function refused(promise) {
  try {
    await promise;
  } catch (err) {
    return { code: grpc.status[err.code], ...details(err) };
  }
  throw new Error('the call was expected to be refused, and was not');
}

function step(text) {
  console.log(`journey: ${text}`);
}

async function main() {
  // The bank knows the household from its customer; here the village clerk
  // lists a few.
  const { households: candidates } = await call(households, 'ListHouseholds', clerkKey,
    { parent: `villages/${village}`, page_size: 20 });
  step(`${candidates.length} households of village ${village} to try`);

  for (const hh of candidates) {
    // 1. No consent, no data.
    const r = await refused(call(credit, 'GetCreditLine', bankKey,
      { product, household: hh.name, purpose: 'assessment' }));
    if (r.reason !== 'CONSENT_REQUIRED') {
      continue; // a household that already consented to this bank
    }
    step(`read without consent refused: ${r.code} ${r.reason}`);

    // 2. The signed form's SHA-256; the form itself stays with the bank.
    const form = crypto.createHash('sha256').update(`counter form for ${hh.name} ${Date.now()}`).digest('hex');
    const pending = await call(consents, 'GrantConsent', bankKey, {
      parent: hh.name, bank, purposes: ['assessment', 'post_loan'], channel: 'counter', authorisation_hash: form,
    });
    step(`consent recorded: ${pending.state}`);
    const granted = await call(consents, 'CountersignConsent', clerkKey, { name: pending.name, authorisation_hash: form });
    step(`consent countersigned by the village clerk: ${granted.state}`);

    // 3. Assess, then read the line.
    const assessed = await call(credit, 'AssessCredit', bankKey, { product, household: hh.name });
    const d = assessed.decision;
    step(`assessed: eligible=${d.eligible} grade=${d.grade} limit=${assessed.line.limit} rate=${assessed.line.rate}`);
    // The full view: the reasons and the limit's working (the default is basic).
    const line = await call(credit, 'GetCreditLine', bankKey, { product, household: hh.name, purpose: 'post_loan', view: 'CREDIT_LINE_VIEW_FULL' });
    const binding = line.limit_steps.find((s) => s.binding);
    step(`line ${line.status}: limit ${line.limit}, available ${line.available}, valid until ${line.valid_until}`
      + (binding ? `, bound by ${binding.step} (${binding.en})` : ''));
    if (line.status !== 'active' || Number(line.available) < 100) {
      step('no line to draw on for this household; trying the next');
      continue;
    }

    // 4. Money moves as strings of yuan; the transaction id is the bank's
    // idempotency key.
    const tx = `NODE-${Date.now()}`;
    const draw = { line: line.name, transaction_id: tx, amount: '100.00', use: 'agriculture' };
    const first = await call(credit, 'ReportDrawdown', bankKey, draw);
    const again = await call(credit, 'ReportDrawdown', bankKey, draw);
    step(`drawdown ${first.amount}: drawn ${first.drawn_after}, repeated: replayed=${again.replayed}`);
    const bad = await refused(call(credit, 'ReportDrawdown', bankKey, { ...draw, transaction_id: `${tx}-bad`, amount: '0.001' }));
    step(`bad amount refused: ${bad.code} ${bad.reason} on ${bad.fields.join(', ')}`);
    const repay = await call(credit, 'ReportRepayment', bankKey, { line: line.name, transaction_id: `${tx}-r`, amount: '40.00' });
    step(`repayment ${repay.amount}: drawn ${repay.drawn_after}`);
    step('OK');
    return;
  }
  throw new Error(`no household of village ${village} without a consent and with a line to draw on`);
}

main().catch((err) => {
  console.error(`journey: FAILED: ${err.message}`);
  process.exit(1);
});
