import { loadConfig } from './config';
import { startGateway } from './gateway';

/** `npm start`: the gateway on its embedded defaults, or as the environment configures it. */
async function main(): Promise<void> {
  const gw = await startGateway(loadConfig());
  const stop = async (signal: string) => {
    gw.log.info({ signal }, 'stopping');
    await gw.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: Error) => {
  process.stderr.write(`fhir-gateway failed to start: ${err.message}\n`);
  process.exit(1);
});
