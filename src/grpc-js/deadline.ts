export { msUntil } from '../call-policy/deadline.js';
