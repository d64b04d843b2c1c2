// The JSON-RPC error body the HTTP layer answers with when a request never reaches the MCP transport.
export const rpcError = (code: number, message: string) => ({ jsonrpc: "2.0", error: { code, message }, id: null });
