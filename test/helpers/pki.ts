// Test certificates: a CA and leaf certificates signed by it, made with openssl.
import { execFileSync } from 'node:child_process';

/** Writes `<name>-ca.pem/.key` and `<leaf>.pem/.key` for each leaf into `dir`. */
export function makePki(dir: string, name: string, leaves: string[]): void {
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name} CA`, '-keyout', `${name}-ca.key`, '-out', `${name}-ca.pem`);
  for (const leaf of leaves) {
    ossl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${leaf}`, '-keyout', `${leaf}.key`, '-out', `${leaf}.csr`);
    ossl('x509', '-req', '-in', `${leaf}.csr`, '-CA', `${name}-ca.pem`, '-CAkey', `${name}-ca.key`, '-CAcreateserial', '-days', '2', '-out', `${leaf}.pem`);
  }
}
