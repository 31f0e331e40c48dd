// The OpenAI Node SDK (npm `openai` 6.x, vendored) driven against a running gateway, as a user's
// code drives it: every object the SDK returns is checked against the SDK's own type declarations
// (field names, types, nullability, enum values). Run by run.sh; exits non-zero on the first
// mismatch, naming the object, the field and what was found.
//
//   node contract.mjs BASE_URL API_KEY FINE_TUNED_MODEL DATASET_FILE
import OpenAI, { toFile, NotFoundError, BadRequestError } from 'openai';
import { readFileSync } from 'node:fs';

const [baseURL, apiKey, tunedModel, datasetFile] = process.argv.slice(2);
const client = new OpenAI({ baseURL: baseURL + '/v1', apiKey, maxRetries: 0 });
let checks = 0;

function fail(message) {
  console.error('openai-contract: ' + message);
  process.exit(1);
}

/** type is 'string', 'number', 'boolean', 'object', 'array', or a union 'string|null'; or a list of allowed values. */
function expectShape(what, object, shape) {
  if (object === null || typeof object !== 'object') fail(`${what} is not an object: ${JSON.stringify(object)}`);
  for (const [field, rule] of Object.entries(shape)) {
    const optional = field.endsWith('?');
    const name = optional ? field.slice(0, -1) : field;
    const value = object[name];
    if (!(name in object)) {
      if (optional) continue;
      fail(`${what} has no field "${name}" (the SDK's type requires it): ${JSON.stringify(object).slice(0, 400)}`);
    }
    if (Array.isArray(rule)) {
      if (!rule.includes(value)) fail(`${what}.${name} is ${JSON.stringify(value)}, not one of ${JSON.stringify(rule)}`);
    } else {
      const kinds = rule.split('|');
      const kind = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
      if (!kinds.includes(kind)) fail(`${what}.${name} is ${kind} (${JSON.stringify(value)?.slice(0, 200)}), the SDK types it ${rule}`);
    }
    checks++;
  }
}

const JOB = {
  id: 'string', created_at: 'number', error: 'object|null', fine_tuned_model: 'string|null',
  finished_at: 'number|null', hyperparameters: 'object', model: 'string', object: ['fine_tuning.job'],
  organization_id: 'string', result_files: 'array', seed: 'number',
  status: ['validating_files', 'queued', 'running', 'succeeded', 'failed', 'cancelled'],
  trained_tokens: 'number|null', training_file: 'string', validation_file: 'string|null',
  'estimated_finish?': 'number|null', 'integrations?': 'array|null', 'metadata?': 'object|null',
  'method?': 'object',
};
const EVENT = {
  id: 'string', created_at: 'number', level: ['info', 'warn', 'error'], message: 'string',
  object: ['fine_tuning.job.event'], 'type?': ['message', 'metrics'],
};
const CHECKPOINT = {
  id: 'string', created_at: 'number', fine_tuned_model_checkpoint: 'string',
  fine_tuning_job_id: 'string', metrics: 'object', object: ['fine_tuning.job.checkpoint'],
  step_number: 'number',
};
const FILE = {
  id: 'string', bytes: 'number', created_at: 'number', filename: 'string', object: ['file'],
  purpose: ['assistants', 'assistants_output', 'batch', 'batch_output', 'fine-tune', 'fine-tune-results', 'vision', 'user_data'],
  status: ['uploaded', 'processed', 'error'],
};
const MODEL = { id: 'string', created: 'number', object: ['model'], owned_by: 'string' };
const USAGE = { prompt_tokens: 'number', completion_tokens: 'number', total_tokens: 'number' };
const TOKEN_LOGPROB = { token: 'string', logprob: 'number', bytes: 'array|null', top_logprobs: 'array' };

async function expectError(what, call, type, status, param) {
  try {
    await call();
  } catch (e) {
    if (!(e instanceof type)) fail(`${what}: expected ${type.name}, got ${e?.constructor?.name}: ${e?.message}`);
    if (e.status !== status) fail(`${what}: status ${e.status}, expected ${status}`);
    expectShape(what + ' error', e.error, { message: 'string', type: 'string', param: 'string|null', code: 'string|null' });
    if (param !== undefined && e.param !== param) fail(`${what}: param ${e.param}, expected ${param}`);
    return e;
  }
  fail(`${what}: the call succeeded; expected ${type.name}`);
}

// Files: upload, retrieve, list, content.
const content = readFileSync(datasetFile);
const uploaded = await client.files.create({ file: await toFile(content, 'contract.jsonl'), purpose: 'fine-tune' });
expectShape('files.create', uploaded, FILE);
expectShape('files.retrieve', await client.files.retrieve(uploaded.id), FILE);
const files = [];
for await (const file of client.files.list()) files.push(file);
if (!files.some((f) => f.id === uploaded.id)) fail('files.list lacks the uploaded file');
files.forEach((f) => expectShape('files.list item', f, FILE));
const text = await (await client.files.content(uploaded.id)).text();
if (text !== content.toString('utf8')) fail('files.content differs from the upload');

// Jobs: create (with an Idempotency-Key, sent twice), retrieve, list with pagination, cancel.
const body = {
  model: 'tiny-llama', training_file: uploaded.id, suffix: 'contract', seed: 11,
  metadata: { run: 'openai-contract' },
  method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 1, batch_size: 4 } } },
};
const key = { headers: { 'Idempotency-Key': 'contract-' + Date.now() } };
const job = await client.fineTuning.jobs.create(body, key);
// Cancelled at once (its answer checked below), so a failing check never leaves a job training.
const cancelled = await client.fineTuning.jobs.cancel(job.id);
expectShape('jobs.create', job, JOB);
const again = await client.fineTuning.jobs.create(body, key);
if (again.id !== job.id) fail(`the same Idempotency-Key created a second job ${again.id} beside ${job.id}`);
if (job.seed !== 11 || job.metadata?.run !== 'openai-contract') fail('seed or metadata not echoed: ' + JSON.stringify(job));
if (job.method?.type !== 'supervised' || job.method?.supervised?.hyperparameters?.n_epochs !== 1) {
  fail('method not echoed as the SDK sent it: ' + JSON.stringify(job.method));
}
expectShape('jobs.retrieve', await client.fineTuning.jobs.retrieve(job.id), JOB);
const page = await client.fineTuning.jobs.list({ limit: 1 });
if (page.data.length !== 1) fail(`jobs.list limit 1 gave ${page.data.length}`);
if (typeof page.has_more !== 'boolean') fail('jobs.list has no has_more');
const jobs = [];
for await (const j of client.fineTuning.jobs.list({ limit: 1 })) jobs.push(j);
if (jobs.length < 2 || new Set(jobs.map((j) => j.id)).size !== jobs.length) {
  fail(`auto-pagination over limit 1 gave ${jobs.length} jobs (duplicates or a stop after one page)`);
}
jobs.forEach((j) => expectShape('jobs.list item', j, JOB));
const filtered = await client.fineTuning.jobs.list({ metadata: { run: 'openai-contract' } });
if (!filtered.data.every((j) => j.metadata?.run === 'openai-contract') || !filtered.data.some((j) => j.id === job.id)) {
  fail('jobs.list metadata filter: ' + JSON.stringify(filtered.data.map((j) => j.id)));
}
expectShape('jobs.cancel', cancelled, JOB);
if (cancelled.status !== 'cancelled') fail('jobs.cancel answered status ' + cancelled.status);
await expectError('a second cancel', () => client.fineTuning.jobs.cancel(job.id), BadRequestError, 400);

// The demo's succeeded job: events newest first, checkpoints, its model.
const succeeded = jobs.find((j) => j.fine_tuned_model === tunedModel);
if (!succeeded) fail('no listed job has fine_tuned_model ' + tunedModel);
if (succeeded.status !== 'succeeded' || !(succeeded.trained_tokens > 0) || succeeded.finished_at === null) {
  fail('the succeeded job: ' + JSON.stringify(succeeded));
}
const events = [];
for await (const e of client.fineTuning.jobs.listEvents(succeeded.id, { limit: 5 })) events.push(e);
events.forEach((e) => expectShape('jobs.listEvents item', e, EVENT));
for (let i = 1; i < events.length; i++) {
  if (events[i].created_at > events[i - 1].created_at) fail('events are not newest first');
}
const checkpoints = await client.fineTuning.jobs.checkpoints.list(succeeded.id);
if (checkpoints.data.length === 0) fail('no checkpoints');
checkpoints.data.forEach((c) => expectShape('checkpoints.list item', c, CHECKPOINT));
const models = [];
for await (const m of client.models.list()) models.push(m);
models.forEach((m) => expectShape('models.list item', m, MODEL));
if (!models.some((m) => m.id === tunedModel) || !models.some((m) => m.id === 'tiny-llama')) {
  fail('models.list lacks the base or the fine-tuned model: ' + models.map((m) => m.id));
}
expectShape('models.retrieve', await client.models.retrieve(tunedModel), MODEL);

// Chat: a completion with logprobs, and a stream with logprobs and usage.
const messages = [{ role: 'user', content: 'Is 4242 even or odd?' }];
const chat = await client.chat.completions.create({ model: tunedModel, messages, temperature: 0, max_tokens: 4, logprobs: true, top_logprobs: 2 });
expectShape('chat.completions.create', chat, { id: 'string', choices: 'array', created: 'number', model: 'string', object: ['chat.completion'], usage: 'object' });
expectShape('usage', chat.usage, USAGE);
const choice = chat.choices[0];
expectShape('choice', choice, { finish_reason: ['stop', 'length', 'tool_calls', 'content_filter', 'function_call'], index: 'number', logprobs: 'object|null', message: 'object' });
expectShape('message', choice.message, { content: 'string|null', refusal: 'string|null', role: ['assistant'] });
expectShape('choice.logprobs', choice.logprobs, { content: 'array|null', refusal: 'array|null' });
choice.logprobs.content.forEach((t) => expectShape('logprob', t, TOKEN_LOGPROB));
const stream = await client.chat.completions.create({ model: tunedModel, messages, temperature: 0, max_tokens: 4, logprobs: true, stream: true, stream_options: { include_usage: true } });
let streamed = '';
let streamedLogprobs = 0;
let usage = null;
for await (const chunk of stream) {
  expectShape('chunk', chunk, { id: 'string', choices: 'array', created: 'number', model: 'string', object: ['chat.completion.chunk'], 'usage?': 'object|null' });
  for (const c of chunk.choices) {
    expectShape('chunk choice', c, { delta: 'object', finish_reason: 'string|null', index: 'number', 'logprobs?': 'object|null' });
    streamed += c.delta.content ?? '';
    streamedLogprobs += c.logprobs?.content?.length ?? 0;
  }
  if (chunk.usage) usage = chunk.usage;
}
if (streamed !== choice.message.content) fail(`the stream said ${JSON.stringify(streamed)}, the completion ${JSON.stringify(choice.message.content)}`);
if (streamedLogprobs !== choice.logprobs.content.length) fail(`the stream carried ${streamedLogprobs} logprobs, the completion ${choice.logprobs.content.length}`);
if (!usage) fail('include_usage sent no usage chunk');
expectShape('stream usage', usage, USAGE);

// Errors the SDK turns into its typed exceptions.
await expectError('an unknown job', () => client.fineTuning.jobs.retrieve('ftjob-nosuchjob000000000000'), NotFoundError, 404);
await expectError('n_epochs 0', () => client.fineTuning.jobs.create({ ...body, method: { type: 'supervised', supervised: { hyperparameters: { n_epochs: 0 } } } }), BadRequestError, 400);
await expectError('an unknown model', () => client.chat.completions.create({ model: 'ft:tiny-llama:acme::ftjob-nosuchjob', messages }), NotFoundError, 404, 'model');

const sdk = JSON.parse(readFileSync(new URL('./node_modules/openai/package.json', import.meta.url)));
console.log(`openai-contract: ${checks} field checks passed with the openai ${sdk.version} SDK against ${baseURL}`);
