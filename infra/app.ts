import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ContextError, parseGuardContext } from './context.ts';
import { DeletionGuardStack, STACK_NAME } from './deletion-guard-stack.ts';

// The cdk.json app: `npx cdk synth -c cckmUrl=https://cm.example.com -c cckmSecretName=cckm/deletion-guard`.
const app = new App();

let settings: ReturnType<typeof parseGuardContext>;
try {
  settings = parseGuardContext(app.node.getAllContext());
} catch (error) {
  if (!(error instanceof ContextError)) throw error;
  // One readable message instead of a stack trace: the user fixes a -c flag, not the code.
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}

// Environment-agnostic on purpose: synth needs no account, Region or credentials.
new DeletionGuardStack(app, STACK_NAME, { settings });
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
