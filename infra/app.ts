import { App } from 'aws-cdk-lib';
import { ContextError } from './context.ts';
import { addDeletionGuard } from './guard-app.ts';

// The cdk.json app: `npx cdk synth -c cckmUrl=https://cm.example.com -c cckmSecretName=cckm/deletion-guard`.
const app = new App();
try {
  addDeletionGuard(app);
} catch (error) {
  if (!(error instanceof ContextError)) throw error;
  // One readable message instead of a stack trace: the user fixes a -c flag, not the code.
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
