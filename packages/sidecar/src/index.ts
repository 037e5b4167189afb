export { Watch } from './watch';
