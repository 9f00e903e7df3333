import type { Config } from '../config/schema.ts';
import { isWriteOperation, type ToolDefinition } from './tool.ts';
import type { ErrorCode } from '../errors.ts';

/**
 * Why a tool is not served, or null when it is. The same rule decides `tools/list` and `tools/call`,
 * so a hidden tool can never be called by guessing its name.
 */
export function refusalFor(tool: ToolDefinition, config: Config): ErrorCode | null {
  if (config.readOnly && isWriteOperation(tool.operationType)) return 'READ_ONLY';
  const disabled = config.disabledTools;
  if (disabled.includes(tool.name) || disabled.includes(tool.operationType)) return 'TOOL_DISABLED';
  return null;
}
