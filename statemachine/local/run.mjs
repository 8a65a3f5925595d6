#!/usr/bin/env node
// Executes the real workflow definition on this machine with aws-local-stepfunctions, binding its Task states
// to real programs instead of AWS:
//   SSM tasks    -> sendCommand starts the agent's SSM document (its parameters checked and substituted as SSM
//                   does, its script run by sh; bindings.agent.defaults stand in for defaults CloudFormation would
//                   resolve, such as the published agent's URL); getCommandInvocation answers with the command's
//                   status, exit code and standard error; putParameter.waitForTaskToken stores the task token in a
//                   Parameter Store stand-in served here, which the agent reads and deletes, and waits: backup-agent
//                   reports through the real Step Functions protocol (SendTaskSuccess/Failure/Heartbeat) to an
//                   endpoint served here.
//   Lambda tasks -> the functions' bootstrap, started per invocation against a Lambda Runtime API served here.
// Usage: node run.mjs --definition FILE --bindings FILE [--input JSON] [--name EXECUTION]
// Prints one JSON object: {status, output | error+cause, states: [visited state names], iterations: {state in a Map:
// times entered}, peakInFlight: {function handler: most invocations at once}, tokenParametersLeft}.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

// aws-local-stepfunctions needs Promise.withResolvers (node 22); this machine's node may be 20.
Promise.withResolvers ??= function () {
  let resolve, reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
};
// The package lives with the other test tools in tests/stack (tests/run.sh installs it).
const { StateMachine } = createRequire(new URL('../../tests/stack/package.json', import.meta.url))('aws-local-stepfunctions');

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) =>
  a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs, []));
for (const required of ['definition', 'bindings'])
  if (!args[required]) { console.error(`run.mjs: --${required} is required`); process.exit(2); }
const bindings = JSON.parse(readFileSync(args.bindings, 'utf8'));
const input = JSON.parse(args.input ?? '{}');
const name = args.name ?? `local-${randomUUID()}`;

/** A named error, as Step Functions hands it to Catch: Error = name, Cause = message. */
function stepError(name, cause) {
  const e = new Error(cause);
  e.name = name;
  return e;
}

// Substitutions as the stack would make them; the values only need to look like ARNs, every Task is bound here.
const definition = JSON.parse(readFileSync(args.definition, 'utf8').replace(/\$\{(\w+)\}/g, (_, key) =>
  key.endsWith('FunctionArn') ? `arn:aws:lambda:us-east-1:123456789012:function:${key.replace(/FunctionArn$/, '')}`
    : key === 'InstanceId' ? 'i-0123456789abcdef0' : `local-${key}`));

// --- Step Functions' task-token API, for the agent --------------------------------------------------------------
const tasks = new Map(); // token -> {resolve, reject, heartbeats}
const sfn = await serve(async (req, body) => {
  const action = (req.headers['x-amz-target'] ?? '').replace('AWSStepFunctions.', '');
  if (!/^AWS4-HMAC-SHA256 Credential=/.test(req.headers.authorization ?? '')) return [400, { __type: 'MissingAuthenticationToken' }];
  const request = JSON.parse(body);
  const task = tasks.get(request.taskToken);
  if (!task) return [400, { __type: 'TaskDoesNotExist', message: 'unknown task token' }];
  if (action === 'SendTaskHeartbeat') task.heartbeats++;
  else if (action === 'SendTaskSuccess') task.resolve(JSON.parse(request.output));
  else if (action === 'SendTaskFailure') task.reject(stepError(request.error ?? 'States.TaskFailed', request.cause ?? ''));
  else return [400, { __type: 'UnknownOperationException' }];
  return [200, {}];
}, 'application/x-amz-json-1.0');

// --- SSM Parameter Store, for the one-time SecureStrings that carry task tokens to the agent --------------------
const parameterStore = new Map(); // name -> value
const ssm = await serve(async (req, body) => {
  const action = (req.headers['x-amz-target'] ?? '').replace('AmazonSSM.', '');
  if (!/^AWS4-HMAC-SHA256 Credential=/.test(req.headers.authorization ?? '')) return [400, { __type: 'MissingAuthenticationToken' }];
  const { Name } = JSON.parse(body);
  if (!parameterStore.has(Name)) return [400, { __type: 'ParameterNotFound', message: `parameter ${Name} not found` }];
  if (action === 'GetParameter') return [200, { Parameter: { Name, Type: 'SecureString', Value: parameterStore.get(Name), Version: 1 } }];
  if (action === 'DeleteParameter') { parameterStore.delete(Name); return [200, {}]; }
  return [400, { __type: 'UnknownOperationException' }];
}, 'application/x-amz-json-1.1');

/**
 * What SSM Run Command does with the agent's document: each parameter checked against its allowed pattern or
 * values (or its default taken), substituted into the document's script, and the script started by sh.
 */
const launched = new Map(); // token parameter name -> {exited: promise of the exit code}
const commands = new Map(); // command id -> {status, exitCode, stderr}, as Run Command records an invocation
function launch(parameters) {
  const document = bindings.agent.document;
  const values = {};
  for (const [name, spec] of Object.entries(document.parameters)) {
    const value = parameters.Parameters[name]?.[0] ?? bindings.agent.defaults?.[name] ?? spec.default;
    if (value === undefined) throw stepError('Ssm.InvalidParameters', `missing parameter ${name}`);
    if (typeof value !== 'string')
      throw stepError('Ssm.InvalidParameters', `parameter ${name}'s default is a CloudFormation value: give it in bindings.agent.defaults`);
    if (spec.allowedPattern && !new RegExp(spec.allowedPattern).test(value) || spec.allowedValues && !spec.allowedValues.includes(value))
      throw stepError('Ssm.InvalidParameters', `parameter ${name} is not allowed`);
    values[name] = value;
  }
  const script = document.mainSteps[0].inputs.runCommand.join('\n').replace(/\{\{(\w+)\}\}/g, (_, name) => values[name]);
  const child = spawn('sh', ['-c', script], {
    env: { ...process.env, ...bindings.agent.env, AWS_ENDPOINT_URL_SFN: sfn.url, AWS_ENDPOINT_URL_SSM: ssm.url },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const commandId = randomUUID();
  const command = { status: 'InProgress', exitCode: -1, stderr: '' };
  commands.set(commandId, command);
  child.stderr.on('data', (chunk) => {
    process.stderr.write(chunk);
    // Run Command keeps the first 8,000 characters of a step's standard error.
    command.stderr = (command.stderr + chunk.toString()).slice(0, 8000);
  });
  // 'close': the exit status and every byte of standard error are in.
  const exited = new Promise((resolve) => child.on('close', (code) => {
    Object.assign(command, { status: code === 0 ? 'Success' : 'Failed', exitCode: code ?? -1 });
    resolve(code);
  }));
  launched.set(values.TokenParameter, { exited });
  return { Command: { CommandId: commandId, DocumentName: parameters.DocumentName } };
}

/** GetCommandInvocation: what Run Command recorded of a command started here. */
function commandInvocation(parameters) {
  const command = commands.get(parameters.CommandId);
  if (!command) throw stepError('Ssm.InvocationDoesNotExistException', `no command ${parameters.CommandId}`);
  return {
    CommandId: parameters.CommandId, InstanceId: parameters.InstanceId, Status: command.status,
    ResponseCode: command.exitCode, StandardErrorContent: command.stderr,
  };
}

/** The waiting half: the token goes into the parameter the launched agent waits for; its report ends the task. */
async function awaitAgent(parameters, token) {
  const agent = launched.get(parameters.Name);
  if (!agent) throw stepError('States.TaskFailed', `no command was started for ${parameters.Name}`);
  if (parameters.Type !== 'SecureString') throw stepError('Ssm.ValidationException', 'the token parameter must be a SecureString');
  const { promise, resolve, reject } = Promise.withResolvers();
  tasks.set(token, { resolve, reject, heartbeats: 0 });
  storeParameter(parameters.Name, parameters.Value);
  agent.exited.then((code) => reject(stepError('States.HeartbeatTimeout', `the agent's command exited with ${code} without reporting`)));
  try {
    return await promise;
  } finally {
    tasks.delete(token);
    launched.delete(parameters.Name);
  }
}

function storeParameter(name, value) {
  if (parameterStore.has(name)) throw stepError('Ssm.ParameterAlreadyExists', `parameter ${name} already exists`);
  parameterStore.set(name, value);
}

// --- Lambda Runtime API, for the functions -------------------------------------------------------------------
/**
 * One invocation of a function: its own Runtime API on its own port (so that parallel invocations, as a Map state
 * makes, each reach their own process), the bootstrap started against it, and the answer or error it posts.
 */
const inFlight = {}; // handler -> invocations running now
const peakInFlight = {}; // handler -> the most that ran at once
async function invokeFunction(stateName, payload) {
  const handler = bindings.functions.handlers[stateName];
  if (!handler) throw new Error(`no function is bound to ${stateName}`);
  inFlight[handler] = (inFlight[handler] ?? 0) + 1;
  peakInFlight[handler] = Math.max(peakInFlight[handler] ?? 0, inFlight[handler]);
  const id = randomUUID();
  const { promise, resolve, reject } = Promise.withResolvers();
  const timeoutMs = (bindings.functions.timeoutSeconds ?? 120) * 1000;
  const deadline = Date.now() + timeoutMs;
  let delivered = false;
  const runtime = await serve(async (req, body) => {
    const url = req.url ?? '';
    if (req.method === 'GET' && url === '/2018-06-01/runtime/invocation/next') {
      // As in Lambda, a runtime asking for more work waits; here until the process is stopped.
      if (delivered) return new Promise(() => {});
      delivered = true;
      return [200, payload, {
        'Lambda-Runtime-Aws-Request-Id': id,
        'Lambda-Runtime-Deadline-Ms': String(deadline),
        'Lambda-Runtime-Invoked-Function-Arn': `arn:aws:lambda:us-east-1:123456789012:function:${handler}`,
        'Lambda-Runtime-Trace-Id': `Root=1-${Date.now().toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)};Sampled=0`,
      }];
    }
    const m = url.match(/^\/2018-06-01\/runtime\/(?:invocation\/([^/]+)\/(response|error)|init\/error)$/);
    if (!m || m[1] && m[1] !== id) return [404, { message: `no such endpoint ${url}` }];
    if (m[2] === 'response') resolve(body.length ? JSON.parse(body) : null);
    else {
      const error = JSON.parse(body || '{}');
      // Step Functions names a function's error by its errorType and carries the whole payload as the cause.
      reject(stepError(error.errorType ?? 'Lambda.Unknown', JSON.stringify(error)));
    }
    return [202, { status: 'OK' }];
  });
  const [program, ...rest] = bindings.functions.command;
  const child = spawn(program, rest, {
    env: {
      ...process.env, ...bindings.functions.env, _HANDLER: handler, AWS_LAMBDA_RUNTIME_API: runtime.host,
      AWS_LAMBDA_FUNCTION_NAME: handler, AWS_REGION: bindings.functions.env?.AWS_REGION ?? 'us-east-1',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const timer = setTimeout(() => reject(stepError('States.Timeout', `${handler} ran past its ${timeoutMs} ms`)), timeoutMs + 5000);
  child.on('exit', (code) => reject(stepError('Lambda.Unknown', `${handler} exited with ${code} without answering`)));
  try {
    return await promise;
  } finally {
    inFlight[handler]--;
    clearTimeout(timer);
    child.kill('SIGKILL');
    runtime.close();
  }
}

// --- the execution ---------------------------------------------------------------------------------------
// Every state by name, those inside Map states included (the library looks overrides up by state name).
function allStates(states) {
  return Object.entries(states).flatMap(([name, state]) =>
    [[name, state], ...allStates((state.ItemProcessor ?? state.Iterator)?.States ?? {})]);
}
const handlers = {};
for (const [stateName, state] of allStates(definition.States))
  if (state.Type === 'Task')
    handlers[stateName] = state.Resource.includes(':ssm:sendCommand') ? (parameters) => launch(parameters)
      : state.Resource.includes(':ssm:getCommandInvocation') ? (parameters) => commandInvocation(parameters)
      : state.Resource.includes(':ssm:putParameter') ? (parameters) => awaitAgent(parameters, parameters.Value)
      : (payload) => invokeFunction(stateName, payload);

const startTime = new Date().toISOString();
const machine = new StateMachine(definition, { validationOptions: { checkArn: false } });
const execution = machine.run(input, {
  overrides: {
    taskResourceLocalHandlers: handlers,
    retryIntervalOverrides: Object.fromEntries(allStates(definition.States).map(([s]) => [s, 0])),
  },
  context: {
    Execution: { Id: `arn:aws:states:us-east-1:123456789012:execution:backup:${name}`, Name: name, Input: input, StartTime: startTime },
    StateMachine: { Id: 'arn:aws:states:us-east-1:123456789012:stateMachine:backup', Name: 'backup' },
    Task: { Token: `local-token-${randomUUID()}` },
  },
});
const visited = [];
const iterations = {}; // state inside a Map -> how many times it was entered
const events = (async () => {
  for await (const event of execution.eventLogs)
    if (event.type !== 'StateEntered') continue;
    else if (event.index === undefined) visited.push(event.state.name);
    else iterations[event.state.name] = (iterations[event.state.name] ?? 0) + 1;
})();
let report;
try {
  report = { status: 'SUCCEEDED', output: await execution.result };
} catch (e) {
  report = { status: 'FAILED', error: e.name === 'ExecutionError' ? e.cause?.name : e.name, cause: e.cause?.message ?? e.message };
}
await events;
report.states = visited;
report.iterations = iterations;
report.peakInFlight = peakInFlight;
// The agent deletes each token parameter once read: none may be left.
report.tokenParametersLeft = parameterStore.size;
process.stdout.write(JSON.stringify(report) + '\n');
sfn.close();
ssm.close();

/** A JSON-over-HTTP server on a free loopback port; handle returns [status, body, headers]. */
async function serve(handle, contentType = 'application/json') {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', async () => {
      try {
        const [status, json, headers] = await handle(req, body);
        res.writeHead(status, { 'Content-Type': contentType, ...(headers ?? {}) });
        res.end(JSON.stringify(json));
      } catch (e) {
        res.writeHead(500, { 'Content-Type': contentType });
        res.end(JSON.stringify({ message: String(e) }));
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`,
    close: () => { server.closeAllConnections(); server.close(); },
  };
}
