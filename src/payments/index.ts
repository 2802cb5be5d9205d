// The payments area's public surface (re-exported from src/index.ts).
export { MAX_AMOUNT, AmountError, parseAmount, parsePositiveAmount, formatAmount } from './amount.js';
export { canonicalJson, CanonicalError, type CanonicalValue } from './canonical.js';
export {
  SigningKey,
  KeyError,
  isAddress,
  addressOfPublicKey,
  publicKeyOfAddress,
  verifySignature,
  type KeyFile,
  type SignatureDomain,
} from './keys.js';
export {
  ChannelSigningKey,
  parseChannelKey,
  isChannelKey,
  verifyChannelSignature,
  CHANNEL_KEY_SCHEMES,
  DEFAULT_CHANNEL_KEY_SCHEME,
  type ChannelKeyScheme,
  type ChannelKeyFile,
  type ParsedChannelKey,
} from './channel-keys.js';
export {
  LedgerError,
  REFUSAL_REASONS,
  refuse,
  type Ledger,
  type LedgerKind,
  type PaymentProof,
  type PaymentRequirement,
  type PaymentVerdict,
  type VerifiedPayment,
  type RefusedPayment,
  type RefusalReason,
  type ReceiptRecord,
} from './ledger.js';
export {
  signTransfer,
  signMint,
  signChannelOpen,
  signChannelReclaim,
  txIdOf,
  type SignedTransfer,
  type SignedChannelOpen,
  type SignedChannelReclaim,
  type ChannelRecord,
  type Account,
} from './journal.js';
export { LocalLedger, type LocalLedgerOptions, type AppendedEntry } from './local-ledger.js';
export { auditLedger, type AuditResult, type AuditProblem } from './audit.js';
export { redeemPayment, recordRedemption, releaseRedemption, alreadyRedeemed, isRedeemed, findRedemption, type Redemption, type RedeemResult } from './redemption.js';
export {
  signQuote,
  verifyQuote,
  signReceipt,
  verifyReceipt,
  quoteAmount,
  type Quote,
  type SignedQuote,
  type Receipt,
  type SignedReceipt,
  type Terms,
  type DocumentCheck,
} from './quotes.js';
export {
  ChannelBook,
  VoucherSigner,
  checkVoucher,
  signVoucher,
  paidUntil,
  voucherMessage,
  type Voucher,
  type VoucherVerdict,
  type VoucherRefusal,
  type ChannelView,
  type ChannelSource,
} from './channels.js';
export { paymentsMigrations, PAYMENTS_COMPONENT } from './migrations.js';
export { IotaLedger, IOTA_COIN_TYPE, buildIotaPayment, loadIotaKeypair, pureInputIsMemo, type IotaLedgerConfig } from './iota-ledger.js';
export { ledgerPlugin, startLedgerServer, type LedgerPluginOptions, type LedgerServer } from './http-service.js';
export { LedgerHttpClient, type LedgerInfo, type Submitted } from './http-client.js';
