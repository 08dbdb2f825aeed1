// Drives a running `polyv serve` with the official OpenAI Node SDK, as a client written for OpenAI would.
// Usage: node conformance.mjs BASE_URL API_KEY MODEL   (BASE_URL like http://127.0.0.1:8080/v1)
// Prints one line per check and "ok N checks"; exits 1 at the first failure.
import OpenAI from 'openai';
import assert from 'node:assert/strict';

const [baseURL, apiKey, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60_000 });
let checks = 0;
async function check(name, fn) {
  await fn();
  checks++;
  console.log(`ok ${name}`);
}
const user = (content) => [{ role: 'user', content }];

await check('chat', async () => {
  const r = await client.chat.completions.create({ model, messages: user('Hello!'), max_tokens: 5, temperature: 0 });
  assert.equal(r.object, 'chat.completion');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
  assert.equal(r.usage.completion_tokens, 5);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + 5);
});

await check('chat with the fields SDK users send (null, developer, metadata)', async () => {
  const r = await client.chat.completions.create({
    model, max_tokens: 3, temperature: null, seed: 7, store: false, metadata: { app: 'test' },
    messages: [{ role: 'developer', content: 'Be brief.' }, { role: 'user', content: 'Hi' }, { role: 'user', content: 'again' }],
  });
  assert.equal(r.usage.completion_tokens, 3);
});

await check('stream', async () => {
  const whole = await client.chat.completions.create({ model, messages: user('Count.'), max_tokens: 6, temperature: 0 });
  const stream = await client.chat.completions.create({ model, messages: user('Count.'), max_tokens: 6, temperature: 0, stream: true,
    stream_options: { include_usage: true } });
  let text = '', usage = null, finish = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    if (chunk.choices.length) {
      text += chunk.choices[0].delta.content ?? '';
      finish = chunk.choices[0].finish_reason ?? finish;
    }
  }
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.equal(usage.completion_tokens, whole.usage.completion_tokens);
});

await check('completions', async () => {
  const r = await client.completions.create({ model, prompt: 'The cat sat on', max_tokens: 4, temperature: 0 });
  assert.equal(r.object, 'text_completion');
  assert.equal(typeof r.choices[0].text, 'string');
  assert.equal(r.usage.completion_tokens, 4);
});

await check('models list and retrieve', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids, [model]);
  assert.equal((await client.models.retrieve(model)).id, model);
});

async function fails(promise, type, status) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof type, `expected ${type.name}, got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.status, status);
    return e;
  }
  assert.fail(`expected ${type.name} (${status})`);
}

await check('errors have their status, type, param and code', async () => {
  const bad = await fails(client.chat.completions.create({ model, messages: user('Hi'), max_tokens: 0 }), OpenAI.BadRequestError, 400);
  assert.equal(bad.param, 'max_tokens');
  assert.equal(bad.type, 'invalid_request_error');
  // a stream that cannot start is refused with its status too (not a 200 with an error event)
  const long = await fails(client.chat.completions.create({ model, messages: user('word '.repeat(5000)), stream: true }), OpenAI.BadRequestError, 400);
  assert.equal(long.code, 'context_length_exceeded');
  const missing = await fails(client.models.retrieve('gpt-4o'), OpenAI.NotFoundError, 404);
  assert.equal(missing.code, 'model_not_found');
  const wrongKey = new OpenAI({ baseURL, apiKey: 'sk-wrong', maxRetries: 0 });
  const auth = await fails(wrongKey.chat.completions.create({ model, messages: user('Hi') }), OpenAI.AuthenticationError, 401);
  assert.equal(auth.code, 'invalid_api_key');
});

await check('abort cancels the request on the server', async () => {
  const metrics = async () => {
    const text = await (await fetch(baseURL.replace(/\/v1$/, '') + '/metrics')).text();
    return Number(/^polyv_requests_cancelled_total (\d+)$/m.exec(text)[1]);
  };
  const before = await metrics();
  const controller = new AbortController();
  const stream = await client.chat.completions.create({ model, messages: user('Go on.'), max_tokens: 3000, stream: true },
    { signal: controller.signal });
  let chunks = 0;
  try {
    for await (const chunk of stream) {
      if (++chunks === 3) controller.abort();   // the SDK ends the iteration quietly (or throws its abort error)
    }
  } catch (e) {
    assert.ok(e instanceof OpenAI.APIUserAbortError || e.name === 'AbortError', `got ${e?.constructor?.name}: ${e?.message}`);
  }
  assert.ok(chunks < 100, `the stream went on after the abort (${chunks} chunks)`);
  const end = Date.now() + 20_000;
  while ((await metrics()) === before) {
    assert.ok(Date.now() < end, 'the server did not cancel the aborted stream');
    await new Promise((r) => setTimeout(r, 50));
  }
});

console.log(`ok ${checks} checks`);
