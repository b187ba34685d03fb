// Line-oriented logger: "<time> <LEVEL> <message> key=value ...". Errors go to stderr, the rest to stdout.

function formatValue(value) {
  if (value instanceof Error) {
    return JSON.stringify(`${value.name}: ${value.message}`);
  }
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /^[\w.:/@+-]+$/.test(text) ? text : JSON.stringify(text);
}

function write(level, message, fields = {}) {
  const pairs = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${formatValue(value)}`);
  const line = [new Date().toISOString(), level, message, ...pairs].join(' ');
  if (level === 'ERROR' || level === 'WARN') {
    process.stderr.write(`${line}\n`);
  } else {
    process.stdout.write(`${line}\n`);
  }
}

export const log = Object.freeze({
  info: (message, fields) => write('INFO', message, fields),
  warn: (message, fields) => write('WARN', message, fields),
  error: (message, fields) => write('ERROR', message, fields),
});
