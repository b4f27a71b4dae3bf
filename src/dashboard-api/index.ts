export { dashboardApiRoutes, toOperatorJson, type DashboardApiContext } from './routes.js';
