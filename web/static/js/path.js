// path.js tells which way a PeerConnection's media goes: straight to the
// server, or through the TURN relay, and over what (UDP, TCP, or TLS on the
// HTTPS port, the last resort of a network that lets nothing else out).

import { t } from "./i18n.js";

/**
 * connectionPath reads pc's selected candidate pair and returns
 * {candidate, relayProtocol, text}: the local candidate's type ("host",
 * "srflx", "prflx" or "relay"), how a relayed one reaches its relay ("udp",
 * "tcp", "tls"; "" otherwise), and a few words for people. text is "" while
 * no pair is selected.
 */
export async function connectionPath(pc) {
  const none = { candidate: "", relayProtocol: "", text: "" };
  if (!pc) return none;
  const stats = await pc.getStats();
  let pair = null;
  stats.forEach((s) => {
    if (s.type === "transport" && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
  });
  if (!pair) stats.forEach((s) => { if (!pair && s.type === "candidate-pair" && s.nominated && s.state === "succeeded") pair = s; });
  const local = pair && stats.get(pair.localCandidateId);
  if (!local) return none;
  const candidate = local.candidateType || "";
  const relayProtocol = candidate === "relay" ? (local.relayProtocol || "") : "";
  const text = candidate === "relay" ? t("relayed over {protocol}", { protocol: (relayProtocol || "?").toUpperCase() }) : t("direct");
  return { candidate, relayProtocol, text };
}
